import { createHash } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { TesseraError } from "../../errors.js";
import { publishedJwks } from "../../domain/key-rotation.js";
import type { DomainDeps } from "../../domain/ports.js";
import type { AppEnv } from "../context.js";
import { envelope, errorExample } from "../examples.js";
import { Envelope, Id } from "../wire.js";
import { errorContent } from "./route-kit.js";

const jwksExample = {
  keys: [
    {
      kty: "RSA",
      alg: "RS256",
      use: "sig",
      kid: "XmYXNZwNYGGHeWTLmdTPr2Cqb1YfldhXLtA-d_S7hBY",
      e: "AQAB",
      n: "kveMD1A-6Xz31LRO80HBYoECXC9oS4jEfOpQBGRhVUM55VCe4bomAF5elZoT0EXu8Exl7zFKu_F7iGZpYyIeNErpF-V2t3sFqTyvLWapq7wpobrdJs_ObEV2vGP0-Ya2XPGAKXf21I-WfpoU3pSCUjCfrxI6aXtMd0HmWKX4BN6GG8XDUnx01jqD7m4cWm9S-wtPjD5qVQzfRNSC_vp1T_-WzMBRvE1iWosbbSPhCY8ttbC4tRvayWE3SYPZF4GaoWqzkqiFrCS_tuLL67oRlQfxGCHnCXXhbbikMS2UMvc5M3gfrxJfg-ryoxUcbHJxirtVyUzeNeXVXNbbZKMs1Q",
    },
  ],
  ...envelope,
};

/** The public JWKS: no project secret, and its own caching. */
export const JWKS_PATH = "/v1/sessions/jwks";

const route = createRoute({
  method: "get",
  path: `${JWKS_PATH}/{project_id}`,
  tags: ["sessions"],
  summary: "The project's public signing keys (no authentication)",
  request: { params: z.object({ project_id: Id }) },
  responses: {
    200: { description: "JWKS", content: { "application/json": { schema: z.object({ ...Envelope, keys: z.array(z.record(z.string(), z.unknown())) }), example: jwksExample } } },
    304: { description: "Not modified (If-None-Match)" },
    404: { description: "Unknown project", ...errorContent({ project_not_found: errorExample("project_not_found") }) },
  },
});

export function registerJwksRoute(app: OpenAPIHono<AppEnv>, deps: Pick<DomainDeps, "store" | "keys" | "clock">) {
  app.openapi(route, async (c) => {
    const { project_id: projectId } = c.req.valid("param");
    const project = await deps.store.projects.get(projectId);
    if (!project) throw new TesseraError("project_not_found");
    const { keys, maxAgeSeconds } = await publishedJwks(deps, project);
    const etag = `"${createHash("sha256").update(JSON.stringify(keys)).digest("base64url")}"`;
    c.header("Cache-Control", `public, max-age=${maxAgeSeconds}`);
    c.header("ETag", etag);
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim() === etag)) return c.body(null, 304);
    return c.json({ keys, request_id: c.get("requestId"), status_code: 200 }, 200);
  });
}
