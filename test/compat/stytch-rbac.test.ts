import { Client, StytchError } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";
import { check, setPolicy } from "../rbac/fixtures.js";

/** The official `stytch` client, unchanged, against Tessera's RBAC (real clock: the client verifies JWTs against it). */
describe("compat: stytch RBAC (authorization_check) through the official client", () => {
  let server: TestServer & { baseUrl: string };
  let client: Client;
  let editor: Awaited<ReturnType<typeof signUp>>;
  let plain: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    server = await createListeningTestServer({ overrides: { clock: { now: () => new Date() } } });
    await setPolicy(server);
    client = new Client({ project_id: server.project.project.projectId, secret: server.project.secret, env: `${server.baseUrl}/` });
    editor = await signUp(server);
    await server.call("PUT", `/v1/users/${editor.user_id}`, { roles: ["editor"] });
    editor = { ...editor, session_jwt: (await server.call("POST", "/v1/sessions/authenticate", { session_token: editor.session_token })).body.session_jwt };
    plain = await signUp(server);
  });
  afterAll(async () => server?.close());

  const stytchError = async (call: Promise<unknown>) => {
    const error = await call.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StytchError);
    return error as StytchError;
  };

  it("sessions.authenticate: granted with a verdict, refused with 403 consumer_session_authorization_error", async () => {
    const granted = await client.sessions.authenticate({ session_token: editor.session_token, authorization_check: check("documents", "write") });
    expect(granted.verdict).toEqual({ authorized: true, granting_roles: ["editor"] });
    const error = await stytchError(client.sessions.authenticate({ session_token: plain.session_token, authorization_check: check("documents", "write") }));
    expect(error.status_code).toBe(403);
    expect(error.error_type).toBe("consumer_session_authorization_error");
  });

  it("sessions.authenticateJwt: granted locally (the same JWT back), refused after the remote fallback", async () => {
    const local = await client.sessions.authenticateJwt({ session_jwt: editor.session_jwt, authorization_check: check("documents", "delete") });
    expect(local.session_jwt).toBe(editor.session_jwt); // verified locally: no exchange
    const viaStytchUser = await client.sessions.authenticateJwt({ session_jwt: plain.session_jwt, authorization_check: check("documents", "read") });
    expect(viaStytchUser.session_jwt).toBe(plain.session_jwt); // the JWT's roles carry stytch_user
    // A local refusal makes the client ask the server, which refuses too.
    const error = await stytchError(client.sessions.authenticateJwt({ session_jwt: plain.session_jwt, authorization_check: check("documents", "write") }));
    expect(error.status_code).toBe(403);
    expect(error.error_type).toBe("consumer_session_authorization_error");
  });

  it("sessions.authenticateJwt remote (max_token_age_seconds: 0): the server decides", async () => {
    const remote = await client.sessions.authenticateJwt({ session_jwt: editor.session_jwt, max_token_age_seconds: 0, authorization_check: check("documents", "write") });
    expect(remote.session_jwt).not.toBe(editor.session_jwt);
    expect((remote as { verdict?: unknown }).verdict).toEqual({ authorized: true, granting_roles: ["editor"] });
    const error = await stytchError(client.sessions.authenticateJwt({ session_jwt: plain.session_jwt, max_token_age_seconds: 0, authorization_check: check("invoices", "read") }));
    expect(error.error_type).toBe("consumer_session_authorization_error");
  });

  it("sessions.authenticateJwtLocal: granted, or the client's invalid_permissions", async () => {
    const session = await client.sessions.authenticateJwtLocal({ session_jwt: editor.session_jwt, authorization_check: check("documents", "write") });
    expect(session.roles).toEqual(["stytch_user", "editor"]);
    const error = await client.sessions.authenticateJwtLocal({ session_jwt: plain.session_jwt, authorization_check: check("documents", "write") }).then(() => null, (e: unknown) => e);
    expect((error as { code?: string }).code).toBe("invalid_permissions");
  });

  it("rbac.policy returns the project's policy", async () => {
    const { policy } = await client.rbac.policy();
    expect(policy?.roles.map((r) => r.role_id)).toEqual(["stytch_user", "editor", "billing"]);
  });
});
