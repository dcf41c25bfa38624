import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRESH_JWT_HEADER, session, type TesseraVariables } from "../../src/sdk/hono.js";
import { createVerifier, type Verifier } from "../../src/sdk/verify.js";
import { createListeningTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

describe("tessera/hono session()", () => {
  let server: TestServer & { baseUrl: string };
  let verifier: Verifier;
  let app: Hono<{ Variables: TesseraVariables }>;
  beforeAll(async () => {
    server = await createListeningTestServer();
    verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: server.project.secret, now: () => server.clock.now() });
    await verifier.ready();
    app = new Hono<{ Variables: TesseraVariables }>();
    const who = (c: { get(key: "tessera"): TesseraVariables["tessera"]; json(body: unknown): Response }) => c.json({ user_id: c.get("tessera").user_id });
    app.get("/feed", session({ verifier }), (c) => who(c));
    app.post("/transfer", session({ verifier, maxTokenAgeSeconds: 0 }), (c) => who(c));
    app.post("/settings", session({ verifier, maxAuthAgeSeconds: 300, now: () => server.clock.now() }), (c) => who(c));
  });
  afterAll(async () => {
    verifier.close();
    await server.close();
  });
  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  it("answers 401 JSON without a JWT or with a garbage one", async () => {
    const none = await app.request("/feed");
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ status_code: 401, error_type: "unauthorized", error_message: expect.stringMatching(/\S/) });
    const garbage = await app.request("/feed", { headers: bearer("x.y.z") });
    expect(garbage.status).toBe(401);
    expect((await garbage.json()).error_type).toBe("jwt_invalid");
  });

  it("trusts the JWT on /feed and exchanges it on /transfer, returning the fresh one", async () => {
    const login = await signUp(server);
    const feed = await app.request("/feed", { headers: bearer(login.session_jwt) });
    expect(await feed.json()).toEqual({ user_id: login.user_id });
    expect(feed.headers.get(FRESH_JWT_HEADER)).toBeNull();
    const transfer = await app.request("/transfer", { method: "POST", headers: bearer(login.session_jwt) });
    expect(transfer.status).toBe(200);
    const fresh = transfer.headers.get(FRESH_JWT_HEADER);
    expect(fresh).toMatch(/^ey/);
    expect(fresh).not.toBe(login.session_jwt);
  });

  it("reads the JWT cookie and refreshes the cookie when it exchanged", async () => {
    const login = await signUp(server);
    const name = `tessera_session_jwt_${server.project.project.projectId}`; // the default: what Tessera sets for this project
    const cookieHeader = { cookie: `${name}=${login.session_jwt}` };
    const feed = await app.request("/feed", { headers: cookieHeader });
    expect(await feed.json()).toEqual({ user_id: login.user_id });
    expect(feed.headers.get("set-cookie")).toBeNull(); // not exchanged: the cookie stays as it is
    const response = await app.request("/transfer", { method: "POST", headers: cookieHeader });
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie.startsWith(`${name}=ey`)).toBe(true);
    const value = cookie.slice(name.length + 1).split(";")[0];
    expect(value).toBe(response.headers.get(FRESH_JWT_HEADER)); // the exchanged JWT, not the one sent
    expect(value).not.toBe(login.session_jwt);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it("demands a recent login for step-up routes (403 reauthentication_required)", async () => {
    const login = await signUp(server);
    expect((await app.request("/settings", { method: "POST", headers: bearer(login.session_jwt) })).status).toBe(200);
    server.clock.advance(301_000);
    const fresh = (await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token })).body.session_jwt;
    const stale = await app.request("/settings", { method: "POST", headers: bearer(fresh) });
    expect(stale.status).toBe(403);
    expect((await stale.json()).error_type).toBe("reauthentication_required");
    const email = (await server.call("GET", `/v1/users/${login.user_id}`)).body.emails[0].email;
    const again = await server.call("POST", "/v1/passwords/authenticate", { email, password: STRONG_PASSWORD, session_token: login.session_token });
    expect((await app.request("/settings", { method: "POST", headers: bearer(again.body.session_jwt) })).status).toBe(200);
  });

  it("answers 401 session_revoked for a revoked session on a server-checked route", async () => {
    const login = await signUp(server);
    await server.call("POST", "/v1/sessions/revoke", { session_id: login.session.session_id });
    const response = await app.request("/transfer", { method: "POST", headers: bearer(login.session_jwt) });
    expect(response.status).toBe(401);
    expect((await response.json()).error_type).toBe("session_revoked");
  });

  it("validates its options when built, and reports a wrong app secret as a 500", async () => {
    expect(() => session({ verifier, maxTokenAgeSeconds: -1 })).toThrow(TypeError);
    expect(() => session({} as never)).toThrow(TypeError);
    const wrong = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: "secret-test-wrong", revocationFeed: false, now: () => server.clock.now() });
    const misconfigured = new Hono().post("/transfer", session({ verifier: wrong, maxTokenAgeSeconds: 0 }), (c) => c.text("no"));
    const login = await signUp(server);
    const response = await misconfigured.request("/transfer", { method: "POST", headers: bearer(login.session_jwt) });
    expect(response.status).toBe(500);
    expect((await response.json()).error_type).toBe("unauthorized_credentials");
  });
});
