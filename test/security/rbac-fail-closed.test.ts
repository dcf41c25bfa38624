import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject } from "../../src/domain/projects.js";
import { createVerifier, TesseraVerifyError, type Verifier, type VerifierOptions } from "../../src/sdk/verify.js";
import { basicAuth, createListeningTestServer, signUp, type TestServer } from "../helpers.js";
import { check, POLICY, setPolicy } from "../rbac/fixtures.js";

/** An authorization check is never granted by a missing policy, a typo, a role just removed, or a policy source that is down. */
describe("security: RBAC fails closed", () => {
  let server: TestServer & { baseUrl: string };
  const verifiers: Verifier[] = [];
  beforeAll(async () => {
    server = await createListeningTestServer();
    await setPolicy(server);
  });
  afterAll(async () => {
    for (const v of verifiers) v.close();
    await server?.close();
  });

  const exchange = (body: Record<string, unknown>, authorization = server.authorization) => server.call("POST", "/v1/sessions/authenticate", body, { authorization });
  const withRoles = async (roles: string[]) => {
    const login = await signUp(server);
    await server.call("PUT", `/v1/users/${login.user_id}`, { roles });
    server.clock.advance(1000); // a JWT of the change's own second counts as stale (see Decisions)
    return { ...login, session_jwt: (await exchange({ session_token: login.session_token })).body.session_jwt as string };
  };
  const verifier = (options: Partial<VerifierOptions> = {}) => {
    const v = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: server.project.secret, now: () => server.clock.now(), ...options });
    verifiers.push(v);
    return v;
  };
  const outcome = (promise: Promise<{ verified_by: string }>) => promise.then((r) => `granted:${r.verified_by}`, (e: unknown) => (e instanceof TesseraVerifyError ? e.code : Promise.reject(e)));
  const waitUntil = async (condition: () => Promise<boolean>, ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("a project without a policy grants nothing, whatever roles the user has", async () => {
    const other = await createProject(server.deps, { name: "no policy" });
    const auth = basicAuth(other.project.projectId, other.secret);
    const policy = await server.call("GET", "/v1/rbac/policy", undefined, { authorization: auth });
    expect(policy.body.policy).toEqual({ roles: [{ role_id: "stytch_user", description: expect.any(String), permissions: [] }], resources: [], scopes: [] });
    const signup = await server.call("POST", "/v1/passwords", { email: "np@example.com", password: "violet-Tractor-sunrise-91!", session_duration_minutes: 60 }, { authorization: auth });
    await server.call("PUT", `/v1/users/${signup.body.user_id}`, { roles: ["editor", "admin"] }, { authorization: auth });
    for (const c of [check("documents", "read"), check("anything", "*")]) {
      expect((await exchange({ session_token: signup.body.session_token, authorization_check: c }, auth)).status).toBe(403);
    }
  });

  it("a typo in a resource or an action, the wildcard as an action, or a role not in the policy grants nothing", async () => {
    const editor = await withRoles(["editor", "superadmin"]);
    for (const c of [check("document", "write"), check("Documents", "write"), check("documents", "wirte"), check("documents", "*"), check("invoices", "read")]) {
      const response = await exchange({ session_token: editor.session_token, authorization_check: c });
      expect(response.status, JSON.stringify(c)).toBe(403);
      expect(response.body.error_type).toBe("consumer_session_authorization_error");
    }
    const v = verifier();
    await v.ready();
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "wirte") }))).toBe("invalid_permissions");
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("granted:local");
  });

  it("a role removed a second ago: the server refuses at once; the verifier once the feed delivers the change", async () => {
    const editor = await withRoles(["editor"]);
    const v = verifier();
    await v.ready();
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("granted:local");
    server.clock.advance(1000);
    await server.call("PUT", `/v1/users/${editor.user_id}`, { roles: [] });
    // The server decides from the user's current roles, by token and by the old JWT alike.
    expect((await exchange({ session_token: editor.session_token, authorization_check: check("documents", "write") })).status).toBe(403);
    expect((await exchange({ session_jwt: editor.session_jwt, authorization_check: check("documents", "write") })).status).toBe(403);
    // The old JWT still carries "editor", but once the user.updated event arrives it is stale and goes to the server.
    await waitUntil(async () => (await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))) === "invalid_permissions");
    for (let i = 0; i < 5; i++) expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("invalid_permissions");
  });

  it("the policy source down: the verifier asks the server instead of granting; both down is server_unavailable", async () => {
    const editor = await withRoles(["editor"]);
    const plain = await withRoles([]);
    const down = new Set<string>();
    const gated: typeof fetch = async (input, init) => {
      const path = new URL(typeof input === "string" || input instanceof URL ? input : input.url).pathname;
      if (down.has(path)) throw new TypeError("fetch failed");
      return fetch(input, init);
    };
    const v = verifier({ fetch: gated, rbacPolicyCacheSeconds: 30 });
    await v.ready();
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("granted:local");
    down.add("/v1/rbac/policy");
    server.clock.advance(31_000); // the cached copy is past its age: never used again, outage or not
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("granted:server");
    expect(await outcome(v.authenticateJwt(plain.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("invalid_permissions");
    down.add("/v1/sessions/authenticate");
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") }))).toBe("server_unavailable");
    // Without a check nothing changed: local verification needs no policy.
    expect(await outcome(v.authenticateJwt(editor.session_jwt))).toBe("granted:local");
  });

  it("a permission removed from the policy stops granting locally within the verifier's cache age", async () => {
    const editor = await withRoles(["editor"]);
    const v = verifier({ rbacPolicyCacheSeconds: 10 });
    await v.ready();
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "delete") }))).toBe("granted:local");
    await setPolicy(server, { ...POLICY, roles: POLICY.roles.map((r) => (r.role_id === "editor" ? { ...r, permissions: [{ resource_id: "documents", actions: ["read", "write"] }] } : r)) });
    expect((await exchange({ session_token: editor.session_token, authorization_check: check("documents", "delete") })).status).toBe(403); // the server at once
    server.clock.advance(10_000);
    expect(await outcome(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "delete") }))).toBe("invalid_permissions");
    await setPolicy(server);
  });

  it("a verifier without the secret cannot be asked an authorization check", async () => {
    const editor = await withRoles(["editor"]);
    const v = verifier({ secret: undefined });
    await expect(v.authenticateJwt(editor.session_jwt, { authorizationCheck: check("documents", "write") })).rejects.toThrow(TypeError);
  });
});
