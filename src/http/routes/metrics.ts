import { createHash, timingSafeEqual } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { TesseraError } from "../../errors.js";
import type { Metrics } from "../../metrics/metrics.js";
import type { AppEnv } from "../context.js";
import { ErrorWire } from "../wire.js";

const EXAMPLE = `# HELP tessera_exchanges_total Session exchanges by outcome: ok, the refusal's reason, or the error type.
# TYPE tessera_exchanges_total counter
tessera_exchanges_total{surface="backend",outcome="ok"} 1520
tessera_exchanges_total{surface="backend",outcome="revoked"} 3
`;

const route = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operations"],
  summary: "Prometheus metrics (Authorization: Bearer $METRICS_TOKEN)",
  description: "Not served unless METRICS_TOKEN is set: without it, 404 like any unknown route. The README's Metrics section lists every metric.",
  security: [{ metricsToken: [] }],
  responses: {
    200: { description: "Prometheus text exposition format 0.0.4", content: { "text/plain; version=0.0.4; charset=utf-8": { schema: z.string(), example: EXAMPLE } } },
    401: { description: "Missing or wrong bearer token", content: { "application/json": { schema: ErrorWire } } },
    404: { description: "METRICS_TOKEN is not configured", content: { "application/json": { schema: ErrorWire } } },
  },
});

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Metrics tell an outsider about traffic and tenants, so they are served only to a holder of the
 * token; the comparison is over fixed-length digests, in constant time.
 */
export function registerMetricsRoute(app: OpenAPIHono<AppEnv>, deps: { metrics: Pick<Metrics, "scrape" | "contentType">; metricsToken: string | undefined }) {
  app.openAPIRegistry.registerComponent("securitySchemes", "metricsToken", { type: "http", scheme: "bearer", description: "The METRICS_TOKEN configured on the server" });
  const expected = deps.metricsToken === undefined ? null : digest(deps.metricsToken);
  app.openapi(route, async (c) => {
    if (!expected) throw new TesseraError("not_found", { message: `No route for ${c.req.method} ${c.req.path}.` });
    const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!given || !timingSafeEqual(digest(given), expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="metrics"');
      throw new TesseraError("unauthorized_credentials", { message: "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>." });
    }
    c.header("Cache-Control", "no-store");
    return c.text(await deps.metrics.scrape(), 200, { "Content-Type": deps.metrics.contentType });
  });
}
