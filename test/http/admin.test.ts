import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTING_NAMES } from "../../src/domain/project-settings.js";
import { defaultProjectSettings } from "../../src/domain/projects.js";
import { createAdminApp } from "../../src/http/admin-app.js";
import { createLocalManagement } from "../../src/management/local.js";
import { basicAuth, createTestServer, type TestServer } from "../helpers.js";

/** A valid value other than the default for every setting: each must round-trip through the API. */
const SAMPLES: Record<string, unknown> = {
  defaultSessionDurationMinutes: 30,
  maxSessionDurationMinutes: 10_080,
  idleTimeoutMinutes: 45,
  absoluteLifetimeMinutes: 1_440,
  jwtLifetimeSeconds: 120,
  jwtAlgorithm: "ES256",
  keyRotationIntervalDays: 7,
  issuerFormat: "public_url",
  allowedOrigins: ["https://app.example.com", "http://localhost:5173"],
  cookieDomain: "example.com",
  exposeJwtToScripts: true,
  selfSignUp: false,
  "rateLimits.loginFailuresPerEmail": 7,
  "rateLimits.loginFailureWindowSeconds": 600,
  "rateLimits.lockoutSeconds": 30,
  "rateLimits.maxLockoutSeconds": 1_800,
  "rateLimits.loginAttemptsPerIpPerMinute": 50,
  "rateLimits.signUpsPerIpPerHour": 40,
  "rateLimits.signUpsPerProjectPerMinute": 200,
  "rateLimits.exchangesPerSessionPerMinute": 240,
  "rateLimits.apiCallsPerSecretPerMinute": 100_000,
};
const nested = (name: string, value: unknown) => name.split(".").reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
const read = (settings: Record<string, unknown>, name: string) => name.split(".").reduce<any>((o, key) => o?.[key], settings);

describe("management API (admin key)", () => {
  let server: TestServer;
  let admin: ReturnType<typeof createAdminApp>;
  const key = () => server.deps.adminKey!;
  const call = async (method: string, path: string, body?: unknown, authorization = `Bearer ${key()}`) => {
    const response = await admin.request(path, { method, headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    server = await createTestServer();
    admin = createAdminApp({ management: createLocalManagement(server.deps, "admin-api"), adminKey: key(), logger: server.deps.logger, bodyLimitBytes: 65_536, databaseAnswers: async () => true });
  });
  afterAll(() => server.close());

  it("refuses calls without the admin key, or with a project secret", async () => {
    expect((await call("GET", "/admin/v1/projects", undefined, "")).status).toBe(401);
    expect((await call("GET", "/admin/v1/projects", undefined, `Bearer ${key()}x`)).status).toBe(401);
    expect((await call("GET", "/admin/v1/projects", undefined, server.authorization)).status).toBe(401);
    // and the public app does not serve it at all
    expect((await server.app.request("/admin/v1/projects", { headers: { authorization: `Bearer ${key()}` } })).status).toBe(404);
  });

  it("covers every project setting", () => {
    expect([...SETTING_NAMES].sort()).toEqual(Object.keys(SAMPLES).sort());
    const defaults = new Set([...Object.keys(defaultProjectSettings).filter((k) => k !== "rateLimits"), ...Object.keys(defaultProjectSettings.rateLimits).map((k) => `rateLimits.${k}`)]);
    expect([...defaults].sort()).toEqual([...SETTING_NAMES].sort());
  });

  it("round-trips each setting, audits it, and refuses a bad value naming the setting and its range without changing anything", async () => {
    const { project_id: id } = (await call("POST", "/admin/v1/projects", { name: "managed" })).body;
    for (const [name, value] of Object.entries(SAMPLES)) {
      const updated = await call("PATCH", `/admin/v1/projects/${id}`, { settings: nested(name, value) });
      expect(updated.status, `${name}: ${JSON.stringify(updated.body)}`).toBe(200);
      expect(updated.body.changed).toEqual([name]);
      expect(read((await call("GET", `/admin/v1/projects/${id}`)).body.settings, name)).toEqual(value);
    }
    const before = (await call("GET", `/admin/v1/projects/${id}`)).body;
    for (const [patch, says] of [
      [{ rateLimits: { loginFailuresPerEmail: 0 } }, /rateLimits\.loginFailuresPerEmail must be an integer from 1 to 1000000/],
      [{ allowedOrigins: ["https://app.example.com/path"] }, /allowedOrigins\.0 must be origins like/],
      [{ jwtAlgorithm: "HS256" }, /jwtAlgorithm must be RS256, ES256 or EdDSA/],
      [{ jwtLifetimeSeconds: 90_000, selfSignUp: true }, /jwtLifetimeSeconds must be an integer from 1 to 3600/],
      [{ nope: 1 }, /unknown setting nope/],
    ] as const) {
      const refused = await call("PATCH", `/admin/v1/projects/${id}`, { settings: patch });
      expect(refused.status).toBe(400);
      expect(refused.body.error_type).toBe("invalid_setting");
      expect(refused.body.error_message).toMatch(says);
    }
    expect((await call("GET", `/admin/v1/projects/${id}`)).body).toEqual(before);
    const events = (await call("GET", `/admin/v1/projects/${id}/events?limit=100`)).body.events;
    expect(events.filter((e: { type: string }) => e.type === "project.updated")).toHaveLength(Object.keys(SAMPLES).length);
    expect(events[0]).toMatchObject({ type: "project.updated", actor: "admin-api", details: { changed: ["rateLimits.apiCallsPerSecretPerMinute"] } });
  });

  it("a change is in effect at once: an origin allowed through the API passes the browser API", async () => {
    const id = server.project.project.projectId;
    const origin = "https://shop.example.com";
    const login = () => server.app.request(`/sdk/v1/${server.project.publicToken}/login`, { method: "POST", headers: { origin, "x-tessera-request": "1", "content-type": "application/json" }, body: JSON.stringify({ email: "nobody@example.com", password: "x" }) });
    expect((await login()).status).toBe(403);
    expect((await call("PATCH", `/admin/v1/projects/${id}`, { settings: { allowedOrigins: [origin] } })).status).toBe(200);
    expect((await login()).status).toBe(401); // the origin passes; the credentials are wrong
  });

  it("manages secrets, public tokens, keys and the audit log", async () => {
    const id = server.project.project.projectId;
    const secret = (await call("POST", `/admin/v1/projects/${id}/secrets`)).body;
    expect(secret).toMatchObject({ project_id: id, secret_id: expect.stringMatching(/^secret-test-/), secret: expect.stringMatching(/^secret-test-/) });
    const withNew = { authorization: basicAuth(id, secret.secret) };
    expect((await server.call("GET", "/v1/sessions?user_id=user-test-nobody", undefined, withNew)).body.error_type).toBe("user_not_found"); // authenticated
    expect((await call("POST", `/admin/v1/projects/${id}/secrets/${secret.secret_id}/revoke`)).body).toEqual({ project_id: id, secret_id: secret.secret_id, revoked: true });
    expect((await server.call("GET", "/v1/sessions?user_id=user-test-nobody", undefined, withNew)).status).toBe(401);
    const again = await call("POST", `/admin/v1/projects/${id}/secrets/${secret.secret_id}/revoke`);
    expect(again.status).toBe(404);
    expect(again.body.error_message).toBe(`no live secret ${secret.secret_id} in project ${id}`);

    expect((await call("POST", `/admin/v1/projects/${id}/public_tokens`)).body.public_token).toMatch(/^public-token-test-/);
    const rotated = (await call("POST", `/admin/v1/projects/${id}/keys/rotate`, { now: true })).body;
    expect(rotated.moves.map((m: { to: string }) => m.to)).toEqual(["retired", "current"]);
    const keys = (await call("GET", `/admin/v1/projects/${id}/keys`)).body.keys;
    expect(keys.map((k: { state: string }) => k.state)).toEqual(["retired", "current"]);
    const unknown = await call("GET", "/admin/v1/projects/project-test-00000000-0000-4000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error_type).toBe("project_not_found");
  });
});
