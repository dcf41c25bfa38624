import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { TesseraError } from "../errors.js";
import type { Metrics, Surface } from "../metrics/metrics.js";

/** The routes whose outcome is counted beyond its status: the exchange and the login, on both surfaces. */
const outcomeRoutes: Record<string, { count: "countExchange" | "countLogin"; surface: Surface }> = {
  "POST /v1/sessions/authenticate": { count: "countExchange", surface: "backend" },
  "POST /sdk/v1/:public_token/sessions/authenticate": { count: "countExchange", surface: "browser" },
  "POST /v1/passwords/authenticate": { count: "countLogin", surface: "backend" },
  "POST /sdk/v1/:public_token/login": { count: "countLogin", surface: "browser" },
};
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
/** A refusal's `error_details.reason` becomes a label only if it looks like one of ours. */
const REASON = /^[a-z_]{1,32}$/;

/**
 * The route label is the pattern that matched (`/v1/users/:user_id`), never the raw path: ids in
 * labels would make a series per user. Unmatched requests share the pattern of the deepest
 * middleware that saw them (`/v1/*`), or `unmatched`.
 */
export function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  const endpoint = routes.find((r) => r.method !== "ALL");
  if (endpoint) return endpoint.path;
  return routes.filter((r) => r.path !== "*" && r.path !== "/*").at(-1)?.path ?? "unmatched";
}

/** `ok`, the exchange refusal's reason (revoked, expired…), or the error type; all from finite sets. */
function outcomeOf(status: number, error: unknown): string {
  if (status < 400) return "ok";
  if (error instanceof TesseraError) {
    const reason = error.details?.reason;
    return (error.type === "session_not_found" || error.type === "no_session") && typeof reason === "string" && REASON.test(reason) ? reason : error.type;
  }
  return status === 503 ? "service_unavailable" : status >= 500 ? "internal_server_error" : "bad_request";
}

/** Counts and times a finished request by route pattern and status; counts exchange and login outcomes. */
export function requestRecorder(metrics: Pick<Metrics, "observeRequest" | "countExchange" | "countLogin">) {
  return (request: { method: string; route: string }, startedAt: number, status: number, error: unknown): void => {
    const method = METHODS.has(request.method) ? request.method : "OTHER";
    metrics.observeRequest({ method, route: request.route, status, seconds: (performance.now() - startedAt) / 1000 });
    const counted = outcomeRoutes[`${method} ${request.route}`];
    if (counted) metrics[counted.count](counted.surface, outcomeOf(status, error));
  };
}
