import { describe, expect, it } from "vitest";
import { createTestServer, DATABASE_URL, REDIS_URL, signUp } from "../helpers.js";

describe("operations endpoints", () => {
  it("/healthz answers; /readyz reports the database and Redis", async () => {
    const server = await createTestServer();
    try {
      expect(await (await server.app.request("/healthz")).json()).toEqual({ status: "ok" });
      const ready = await server.app.request("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", database: "ok", redis: REDIS_URL ? "ok" : "in-process" });
    } finally {
      await server.close();
    }
  });

  it("stays ready when Redis is down, and says so", async () => {
    const server = await createTestServer({ env: { REDIS_URL: "redis://127.0.0.1:1" } }); // nothing listens on port 1
    try {
      const ready = await server.app.request("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", database: "ok", redis: "down" });
      expect((await signUp(server)).session_token).toHaveLength(43); // everything else keeps serving
    } finally {
      await server.close();
    }
  });

  it("fails closed when the database is gone: 503, never a 200 for an unchecked session", async () => {
    const server = await createTestServer();
    const login = await signUp(server);
    await server.deps.database.close();
    try {
      const ready = await server.app.request("/readyz");
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: "not_ready", database: "down" });
      const exchange = await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token });
      expect(exchange.status).toBe(503);
      expect(exchange.body.error_type).toBe("service_unavailable");
    } finally {
      await server.close();
    }
  });

  it("documents every route in /openapi.json, each with request and response examples", async () => {
    const server = await createTestServer();
    try {
      const spec = await (await server.app.request("/openapi.json")).json();
      expect(spec.openapi).toBe("3.1.0");
      type Media = Record<string, { example?: unknown; examples?: Record<string, unknown> }>;
      type Operation = { requestBody?: { content: Media }; responses: Record<string, { content?: Media }> };
      const operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));
      const documented = new Set(operations.map((o) => o.id));

      // Every route the app answers, read from the app itself; only the spec and the docs page stand outside it.
      const undocumented = new Set(["GET /openapi.json", "GET /docs", "GET /docs/assets/{version}/{name}"]);
      const routes = [...new Set(server.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`))];
      expect(routes.filter((r) => !undocumented.has(r) && !documented.has(r))).toEqual([]);
      for (const id of ["GET /v1/sessions/revocations/stream", "GET /healthz", "GET /readyz", "GET /metrics", "POST /v1/sessions/authenticate", "GET /v1/sessions/jwks/{project_id}", "POST /sdk/v1/{public_token}/login"]) {
        expect(documented.has(id), id).toBe(true);
      }
      expect(operations.length).toBeGreaterThanOrEqual(24);

      const hasExample = (content: Media | undefined) => Object.values(content ?? {}).some((m) => m.example !== undefined || Object.keys(m.examples ?? {}).length > 0);
      for (const { id, op } of operations) {
        if (op.requestBody) expect(hasExample(op.requestBody.content), `${id}: request example`).toBe(true);
        expect(hasExample(op.responses["200"]?.content), `${id}: 200 example`).toBe(true);
      }
      const stream = spec.paths["/v1/sessions/revocations/stream"].get;
      expect(stream.responses["200"].content["text/event-stream"].example).toMatch(/^id: .+\nevent: session\.revoked\ndata: \{/);
      const refusals = spec.paths["/v1/sessions/authenticate"].post.responses["404"].content["application/json"].examples;
      expect(Object.keys(refusals).sort()).toEqual(["expired", "idle_timeout", "not_found", "revoked", "user_deleted"]);
      expect(spec.components.securitySchemes.metricsToken).toMatchObject({ type: "http", scheme: "bearer" });

      const docs = await server.app.request("/docs");
      expect(docs.headers.get("content-type")).toMatch(/text\/html/);
      expect(docs.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    } finally {
      await server.close();
    }
  });
});

describe.runIf(DATABASE_URL)("real Postgres", () => {
  it("runs the suite against DATABASE_URL", async () => {
    const server = await createTestServer();
    try {
      expect(server.deps.database.kind).toBe("postgres");
    } finally {
      await server.close();
    }
  });
});
