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

  it("serves the OpenAPI document with every backend route", async () => {
    const server = await createTestServer();
    try {
      const spec = await (await server.app.request("/openapi.json")).json();
      expect(spec.openapi).toBe("3.1.0");
      for (const path of ["/v1/users", "/v1/users/{user_id}", "/v1/users/search", "/v1/passwords", "/v1/passwords/authenticate", "/v1/passwords/strength_check", "/v1/passwords/existing_password/reset", "/v1/passwords/session/reset", "/v1/sessions/authenticate", "/v1/sessions/revoke", "/v1/sessions", "/v1/sessions/jwks/{project_id}"]) {
        expect(spec.paths[path], path).toBeDefined();
      }
      expect((await server.app.request("/docs")).headers.get("content-type")).toMatch(/text\/html/);
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
