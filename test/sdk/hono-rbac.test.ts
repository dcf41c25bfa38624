import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { session, type TesseraVariables } from "../../src/sdk/hono.js";
import { createVerifier, type Verifier } from "../../src/sdk/verify.js";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";
import { check, setPolicy } from "../rbac/fixtures.js";

describe("tessera/hono session({ authorizationCheck })", () => {
  let server: TestServer & { baseUrl: string };
  let verifier: Verifier;
  let app: Hono<{ Variables: TesseraVariables }>;
  beforeAll(async () => {
    server = await createListeningTestServer();
    await setPolicy(server);
    verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: server.project.secret, now: () => server.clock.now() });
    await verifier.ready();
    app = new Hono<{ Variables: TesseraVariables }>();
    app.get("/docs", session({ verifier, authorizationCheck: check("documents", "read") }), (c) => c.json({ ok: true }));
    app.delete("/docs", session({ verifier, authorizationCheck: check("documents", "delete") }), (c) => c.json({ ok: true }));
    app.delete("/docs/now", session({ verifier, maxTokenAgeSeconds: 0, authorizationCheck: check("documents", "delete") }), (c) => c.json({ ok: true }));
  });
  afterAll(async () => {
    verifier.close();
    await server.close();
  });
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  it("lets a route require a permission: granted by a role (locally or at the server), else 403 invalid_permissions", async () => {
    const plain = await signUp(server);
    const editor = await signUp(server);
    await server.call("PUT", `/v1/users/${editor.user_id}`, { roles: ["editor"] });
    server.clock.advance(1000);
    const editorJwt = (await server.call("POST", "/v1/sessions/authenticate", { session_token: editor.session_token })).body.session_jwt;

    expect((await app.request("/docs", { headers: bearer(plain.session_jwt) })).status).toBe(200); // stytch_user reads
    const refused = await app.request("/docs", { method: "DELETE", headers: bearer(plain.session_jwt) });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ status_code: 403, error_type: "invalid_permissions" });
    expect((await app.request("/docs", { method: "DELETE", headers: bearer(editorJwt) })).status).toBe(200);
    expect((await app.request("/docs/now", { method: "DELETE", headers: bearer(editorJwt) })).status).toBe(200);
    expect((await app.request("/docs/now", { method: "DELETE", headers: bearer(plain.session_jwt) })).status).toBe(403);
  });

  it("refuses a malformed authorizationCheck when the middleware is built", () => {
    expect(() => session({ verifier, authorizationCheck: { resource_id: "documents" } as never })).toThrow(TypeError);
  });
});
