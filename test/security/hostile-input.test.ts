import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const SQL_METACHARACTERS = ["' OR '1'='1", "'; DROP TABLE users; --", "\" OR 1=1 --", "\\", "%_%", "$1", "1; SELECT pg_sleep(5)"];
const WRONG_TYPES: unknown[] = [42, -1, 1.5, true, null, [], {}, ["x"], 1e308];

/** Every string field of every backend route, fed hostile values: refused cleanly or stored as inert data. */
describe("security: hostile input in every field", () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    server = await createTestServer({ settings: { rateLimits: { loginFailuresPerEmail: 10_000, exchangesPerSessionPerMinute: 10_000, apiCallsPerSecretPerMinute: 100_000 } } });
    user = await signUp(server, "owner@example.com");
  });
  afterAll(() => server.close());

  const tables = async () => {
    const result = await server.deps.database.db.execute(sql`select
      (select count(*) from users)::int as users, (select count(*) from sessions)::int as sessions,
      (select count(*) from passwords)::int as passwords, (select count(*) from sessions where revoked_at is not null)::int as revoked,
      (select string_agg(hash, ',') from passwords) as hashes`);
    return JSON.stringify(Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]);
  };

  const routes: [string, string, (value: unknown) => Record<string, unknown>][] = [
    ["POST", "/v1/passwords/authenticate", (v) => ({ email: v, password: STRONG_PASSWORD })],
    ["POST", "/v1/passwords/authenticate", (v) => ({ email: "owner@example.com", password: v })],
    ["POST", "/v1/sessions/authenticate", (v) => ({ session_token: v })],
    ["POST", "/v1/sessions/authenticate", (v) => ({ session_jwt: v })],
    ["POST", "/v1/sessions/revoke", (v) => ({ session_id: v })],
    ["POST", "/v1/sessions/revoke", (v) => ({ session_token: v })],
    ["POST", "/v1/sessions/revoke", (v) => ({ user_id: v })],
    ["POST", "/v1/passwords/session/reset", (v) => ({ session_token: v, password: "orbit-Lantern-meadow-47?" })],
    ["POST", "/v1/passwords/existing_password/reset", (v) => ({ email: v, existing_password: STRONG_PASSWORD, new_password: "orbit-Lantern-meadow-47?" })],
    ["POST", "/v1/users/search", (v) => ({ query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [v] }] } })],
    ["POST", "/v1/users/search", (v) => ({ cursor: v })],
  ];

  it("refuses or harmlessly answers SQL metacharacters, wrong types, NUL bytes and huge strings; nothing changes", async () => {
    const before = await tables();
    for (const [method, path, body] of routes) {
      for (const value of [...SQL_METACHARACTERS, ...WRONG_TYPES, "nul\u0000byte", "x".repeat(20_000)]) {
        const response = await server.call(method, path, body(value));
        expect(response.status, `${path} ${JSON.stringify(value).slice(0, 40)}`).toBeGreaterThanOrEqual(200);
        expect(response.status, `${path} ${JSON.stringify(value).slice(0, 40)}`).toBeLessThan(500);
        if (response.status >= 400) expect(typeof response.body.error_type).toBe("string");
        if (path === "/v1/users/search" && response.status === 200) expect(response.body.results).toEqual([]);
      }
    }
    expect(await tables()).toBe(before);
    expect((await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token })).status).toBe(200);
  });

  it("refuses prototype-pollution keys in every object field, and the process stays healthy", async () => {
    const before = await tables();
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const payload = `{"${key}":{"isAdmin":true,"polluted":true}}`;
      const attempts: [string, string, string][] = [
        ["POST", "/v1/users", `{"email":"p@example.com","trusted_metadata":${payload}}`],
        ["POST", "/v1/users", `{"email":"p@example.com","untrusted_metadata":${payload}}`],
        ["PUT", `/v1/users/${user.user_id}`, `{"trusted_metadata":${payload}}`],
        ["POST", "/v1/passwords", `{"email":"p@example.com","password":"${STRONG_PASSWORD}","trusted_metadata":${payload}}`],
        ["POST", "/v1/sessions/authenticate", `{"session_token":"${user.session_token}","session_custom_claims":${payload}}`],
        ["POST", "/v1/sessions/authenticate", `{"session_token":"${user.session_token}","session_custom_claims":{"nested":${payload}}}`],
        ["POST", "/v1/passwords/authenticate", `{"email":"owner@example.com","password":"${STRONG_PASSWORD}",${payload.slice(1, -1)}}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await server.call(method, path, body);
        expect(response.status, `${path} ${key}`).toBe(400);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(await tables()).toBe(before);
    expect((await server.app.request("/healthz")).status).toBe(200);
    expect((await server.call("GET", `/v1/users/${user.user_id}`)).body.trusted_metadata).toEqual({});
  });

  it("range-checks every integer field", async () => {
    for (const value of [-1, 0, 4, 527_041, 1.5, "60", 1e308, null]) {
      const create = await server.call("POST", "/v1/passwords", { email: "int@example.com", password: STRONG_PASSWORD, session_duration_minutes: value });
      expect(create.status, String(value)).toBe(400);
    }
    for (const limit of [-1, 0, 1.5, "60", 1e308, null, 1001]) {
      expect((await server.call("POST", "/v1/users/search", { limit })).status, String(limit)).toBe(400);
    }
    expect((await server.call("POST", "/v1/users/search", { limit: 4 })).status).toBe(200);
    expect((await server.call("GET", "/v1/users/user-test-x%00")).status).toBe(400);
  });

  it("caps nesting depth and size of metadata and custom claims", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 12; i++) deep = { d: deep };
    expect((await server.call("PUT", `/v1/users/${user.user_id}`, { untrusted_metadata: deep })).body.error_type).toBe("invalid_metadata");
    expect((await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token, session_custom_claims: deep })).body.error_type).toBe("invalid_custom_claims");
    const wide = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, "v".repeat(40)]));
    expect((await server.call("PUT", `/v1/users/${user.user_id}`, { untrusted_metadata: wide })).body.error_type).toBe("invalid_metadata");
  });
});
