import { revokeSecret } from "../../src/domain/projects.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, createTestServer, signUp, type TestServer } from "../helpers.js";

/** Every client mistake is a 4xx in the Stytch error shape: never a 500, never a stack trace. */
describe("bad input", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  const expectStytchError = (response: { status: number; body: any }, status: number, type: string) => {
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ status_code: status, error_type: type });
    expect(response.body.request_id).toMatch(/^request-id-/);
    expect(typeof response.body.error_message).toBe("string");
    expect(typeof response.body.error_url).toBe("string");
    expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack frames
  };

  it("refuses missing and wrong credentials with 401 unauthorized_credentials", async () => {
    const { projectId } = server.project.project;
    for (const authorization of ["", "Bearer x", basicAuth(projectId, "secret-test-wrong"), basicAuth("project-test-nope", server.project.secret), "Basic !!!", basicAuth(projectId, "")]) {
      expectStytchError(await server.call("GET", "/v1/users/user-test-x", undefined, { authorization }), 401, "unauthorized_credentials");
    }
  });

  it("stops accepting a revoked secret", async () => {
    const other = await createTestServer();
    try {
      expect((await other.call("GET", "/v1/users/user-test-x")).status).toBe(404);
      await revokeSecret(other.deps, other.project.project.projectId, other.project.secretId); // at once: the project cache hears the event
      expectStytchError(await other.call("GET", "/v1/users/user-test-x"), 401, "unauthorized_credentials");
    } finally {
      await other.close();
    }
  });

  it("requires application/json and answers malformed JSON with 400", async () => {
    const send = (body: string, contentType?: string) =>
      server.app.request("/v1/sessions/authenticate", { method: "POST", headers: { authorization: server.authorization, ...(contentType ? { "content-type": contentType } : {}) }, body });
    for (const [body, type] of [["{\"session_token\":\"x\"}", "text/plain"], ["{\"session_token\":\"x\"}", undefined], ["a=b", "application/x-www-form-urlencoded"]] as const) {
      const response = await send(body, type);
      expectStytchError({ status: response.status, body: await response.json() }, 400, "invalid_content_type");
    }
    for (const body of ["{bad", "", "[", "{\"a\":}"]) {
      const response = await send(body, "application/json");
      expectStytchError({ status: response.status, body: await response.json() }, 400, "bad_request");
    }
  });

  it("answers wrong types, missing fields and out-of-range integers with 400", async () => {
    const login = await signUp(server);
    const cases: [unknown, string][] = [
      [{ session_token: 42 }, "bad_request"],
      [[], "bad_request"],
      ["just a string", "bad_request"],
      [null, "bad_request"],
      [{ session_token: login.session_token, session_duration_minutes: -5 }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_duration_minutes: 4 }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_duration_minutes: 527_041 }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_duration_minutes: 10.5 }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_duration_minutes: "60" }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_duration_minutes: 1e308 }, "invalid_session_duration"],
      [{ session_token: login.session_token, session_custom_claims: "x" }, "invalid_custom_claims"],
    ];
    for (const [body, type] of cases) {
      expectStytchError(await server.call("POST", "/v1/sessions/authenticate", JSON.stringify(body)), 400, type);
    }
    expectStytchError(await server.call("POST", "/v1/sessions/authenticate", {}), 400, "bad_request");
    expectStytchError(await server.call("POST", "/v1/passwords", { email: "x@example.com" }), 400, "bad_request");
    // and the session survived all of it, unchanged
    const after = await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token });
    expect(after.body.session.expires_at).toBe(login.session.expires_at);
  });

  it("refuses oversize bodies with 413 and deep nesting or prototype keys with 400", async () => {
    expectStytchError(await server.call("POST", "/v1/users", { email: "big@example.com", untrusted_metadata: { blob: "x".repeat(70_000) } }), 413, "payload_too_large");
    let deep: unknown = "leaf";
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expectStytchError(await server.call("POST", "/v1/users", { email: "deep@example.com", untrusted_metadata: deep }), 400, "bad_request");
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expectStytchError(await server.call("POST", "/v1/users", `{"email":"p@example.com","trusted_metadata":{"${key}":{"polluted":true}}}`), 400, "bad_request");
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await server.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: ["p@example.com"] }] } })).body.results).toEqual([]);
  });

  it("treats SQL metacharacters as data", async () => {
    const email = "robert'or'1'='1--/**/drop@example.com"; // the metacharacters a valid address may hold
    const created = await server.call("POST", "/v1/users", { email, name: { first_name: "' or 1=1 --" } });
    expect(created.status).toBe(200);
    const found = await server.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [email] }] } });
    expect(found.body.results).toHaveLength(1);
    expect((await server.call("GET", `/v1/users/${encodeURIComponent("' or '1'='1")}`)).status).toBe(400); // not an id
    expect((await server.call("GET", `/v1/users/${encodeURIComponent("user-test-'or'1'='1")}`)).status).toBe(404);
  });

  it("answers unknown routes with 404 in the Stytch shape", async () => {
    expectStytchError(await server.call("GET", "/v1/nothing-here"), 404, "not_found");
    expectStytchError(await server.call("GET", "/nope"), 404, "not_found");
  });

  it("puts a request id on every response", async () => {
    const response = await server.app.request("/healthz");
    expect(response.headers.get("x-request-id")).toMatch(/^request-id-/);
  });
});
