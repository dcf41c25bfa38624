import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "../helpers.js";
import { check, POLICY, setPolicy } from "../rbac/fixtures.js";

describe("RBAC on the backend API", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
    await setPolicy(server);
  });
  afterAll(async () => server?.close());

  const authenticate = (body: Record<string, unknown>) => server.call("POST", "/v1/sessions/authenticate", body);
  const withRoles = async (roles: string[]) => {
    const login = await signUp(server);
    if (roles.length) expect((await server.call("PUT", `/v1/users/${login.user_id}`, { roles })).status).toBe(200);
    return login;
  };

  it("serves the policy at GET /v1/rbac/policy as Stytch does: { request_id, status_code, policy }", async () => {
    const response = await server.call("GET", "/v1/rbac/policy");
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ request_id: expect.stringMatching(/^request-id-/), status_code: 200, policy: { ...POLICY, scopes: [] } });
    expect((await server.call("GET", "/v1/rbac/policy", undefined, { authorization: "Basic eDp5" })).status).toBe(401);
  });

  it("grants authorization_check with a verdict naming the granting roles, by token and by JWT", async () => {
    const editor = await withRoles(["editor"]);
    const byToken = await authenticate({ session_token: editor.session_token, authorization_check: check("documents", "delete") });
    expect(byToken.status).toBe(200);
    expect(byToken.body.verdict).toEqual({ authorized: true, granting_roles: ["editor"] });
    expect(byToken.body.session.roles).toEqual(["stytch_user", "editor"]);
    const byJwt = await authenticate({ session_jwt: editor.session_jwt, authorization_check: check("documents", "read") });
    expect(byJwt.body.verdict).toEqual({ authorized: true, granting_roles: ["stytch_user", "editor"] });
    expect((await authenticate({ session_token: editor.session_token })).body).not.toHaveProperty("verdict");
  });

  it("refuses with 403 consumer_session_authorization_error, and a refusal changes nothing", async () => {
    const plain = await withRoles([]);
    const refused = await authenticate({ session_token: plain.session_token, authorization_check: check("documents", "write"), session_duration_minutes: 600, session_custom_claims: { x: 1 } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      status_code: 403,
      error_type: "consumer_session_authorization_error",
      error_message: "The User is not authorized to perform the requested action on that resource.",
      error_url: "https://stytch.com/docs/api/errors/403#consumer_session_authorization_error",
      request_id: expect.stringMatching(/^request-id-/),
    });
    const after = await authenticate({ session_token: plain.session_token });
    expect(after.body.session.expires_at).toBe(plain.session.expires_at); // not extended
    expect(after.body.session.custom_claims).toEqual({});
  });

  it("checks liveness first: a revoked session is session_not_found whatever the check", async () => {
    const editor = await withRoles(["editor"]);
    await server.call("POST", "/v1/sessions/revoke", { session_id: editor.session.session_id });
    const response = await authenticate({ session_token: editor.session_token, authorization_check: check("documents", "read") });
    expect(response.status).toBe(404);
    expect(response.body.error_type).toBe("session_not_found");
  });

  it("answers a malformed authorization_check with 400, never a grant", async () => {
    const editor = await withRoles(["editor"]);
    for (const bad of [{ resource_id: "documents" }, { resource_id: "documents", action: "" }, { resource_id: 1, action: "read" }, "documents:read", { resource_id: "documents", action: "read", extra: 1 }]) {
      const response = await authenticate({ session_token: editor.session_token, authorization_check: bad });
      expect(response.status).toBe(400);
      expect(response.body.error_type).toBe("bad_request");
    }
  });

  it("lists the route and its 403 in /openapi.json", async () => {
    const spec = (await (await server.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(spec.paths["/v1/rbac/policy"]?.get).toBeDefined();
    expect(spec.paths["/v1/sessions/authenticate"]?.post?.responses["403"]).toBeDefined();
  });
});
