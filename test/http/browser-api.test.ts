import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const APP = "http://app.example.test";
const EVIL = "http://evil.example.test";

describe("browser API /sdk/v1", () => {
  let server: TestServer;
  let base: string;
  beforeAll(async () => {
    server = await createTestServer({ settings: { allowedOrigins: [APP] } });
    base = `/sdk/v1/${server.project.publicToken}`;
    await server.call("POST", "/v1/passwords", { email: "web@example.com", password: STRONG_PASSWORD });
  });
  afterAll(() => server.close());

  const request = (method: string, path: string, options: { origin?: string | null; csrf?: boolean; body?: unknown; cookie?: string } = {}) =>
    server.app.request(`${base}${path}`, {
      method,
      headers: {
        ...(options.origin === null ? {} : { origin: options.origin ?? APP }),
        ...(options.csrf === false ? {} : { "x-tessera-request": "1" }),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  const cookiesOf = (response: Response) => response.headers.getSetCookie();
  const cookieHeader = (setCookies: string[]) => setCookies.map((c) => c.split(";")[0]).join("; ");
  const logIn = async () => {
    const response = await request("POST", "/login", { body: { email: "web@example.com", password: STRONG_PASSWORD } });
    expect(response.status).toBe(200);
    return { response, body: await response.json(), cookie: cookieHeader(cookiesOf(response)) };
  };

  it("logs in: HttpOnly __Host- session cookie, JWT cookie, timing in the body, never the token", async () => {
    const { response, body } = await logIn();
    const [session, jwt] = [cookiesOf(response).find((c) => c.startsWith(`__Host-tessera_session_${server.project.project.projectId}=`)), cookiesOf(response).find((c) => c.startsWith(`tessera_session_jwt_${server.project.project.projectId}=`))];
    expect(session).toMatch(/; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    expect(session).not.toMatch(/Domain=/i);
    expect(jwt).toMatch(/HttpOnly/);
    const token = session!.split(";")[0]!.split("=")[1]!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(body)).not.toContain(token);
    expect(body.session_jwt).toBeUndefined(); // not exposed to scripts by default
    expect(new Date(body.jwt_expires_at).getTime() - new Date(body.jwt_issued_at).getTime()).toBe(300_000);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("refreshes from the cookie, lists and revokes own sessions, logs out", async () => {
    const first = await logIn();
    const second = await logIn();
    server.clock.advance(5000);
    const refreshed = await request("POST", "/sessions/authenticate", { cookie: first.cookie });
    expect(refreshed.status).toBe(200);
    expect((await refreshed.json()).session.session_id).toBe(first.body.session.session_id);

    const listed = await (await request("GET", "/sessions", { cookie: first.cookie, csrf: false })).json();
    const mine = listed.sessions.filter((s: { current: boolean }) => s.current);
    expect(mine.map((s: { session_id: string }) => s.session_id)).toEqual([first.body.session.session_id]);
    expect(listed.sessions.length).toBeGreaterThanOrEqual(2);

    expect((await request("POST", "/sessions/revoke", { cookie: first.cookie, body: { session_id: second.body.session.session_id } })).status).toBe(200);
    const dead = await request("POST", "/sessions/authenticate", { cookie: second.cookie });
    expect(dead.status).toBe(401);
    expect((await dead.json()).error_type).toBe("no_session");
    expect(cookiesOf(dead).some((c) => c.startsWith(`__Host-tessera_session_${server.project.project.projectId}=;`) && /Max-Age=0/.test(c))).toBe(true);

    const out = await request("POST", "/logout", { cookie: first.cookie });
    expect(out.status).toBe(200);
    expect((await request("POST", "/sessions/authenticate", { cookie: first.cookie })).status).toBe(401);
  });

  it("refuses other origins, missing Origin and missing CSRF header on state-changing routes; the session survives", async () => {
    const { cookie } = await logIn();
    const attempts = [
      request("POST", "/sessions/authenticate", { cookie, origin: EVIL }),
      request("POST", "/logout", { cookie, origin: EVIL }),
      request("POST", "/logout", { cookie, origin: null }),
      request("POST", "/logout", { cookie, csrf: false }),
      request("POST", "/login", { origin: EVIL, body: { email: "web@example.com", password: STRONG_PASSWORD } }),
      request("GET", "/sessions", { cookie, origin: EVIL, csrf: false }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(403);
      const type = (await response.json()).error_type;
      expect(["origin_not_allowed", "csrf_header_missing"]).toContain(type);
      // a refused origin learns nothing: no CORS headers, so its script cannot even read the refusal
      if (type === "origin_not_allowed") expect(response.headers.get("access-control-allow-origin")).toBeNull();
    }
    expect((await request("POST", "/sessions/authenticate", { cookie })).status).toBe(200);
  });

  it("answers preflights for allowed origins only", async () => {
    const ok = await server.app.request(`${base}/login`, { method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "POST" } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/X-Tessera-Request/);
    const evil = await server.app.request(`${base}/login`, { method: "OPTIONS", headers: { origin: EVIL, "access-control-request-method": "POST" } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers login failures the same for unknown email and wrong password; refuses unknown public tokens", async () => {
    const wrong = await request("POST", "/login", { body: { email: "web@example.com", password: "Wrong-password-99" } });
    const unknown = await request("POST", "/login", { body: { email: "nobody@example.com", password: "Wrong-password-99" } });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const [a, b] = [await wrong.json(), await unknown.json()];
    expect([a.error_type, a.error_message]).toEqual([b.error_type, b.error_message]);
    const bogus = await server.app.request("/sdk/v1/public-token-test-nope/login", { method: "POST", headers: { origin: APP, "x-tessera-request": "1", "content-type": "application/json" }, body: "{}" });
    expect(bogus.status).toBe(401);
    expect((await bogus.json()).error_type).toBe("invalid_public_token");
  });

  it("signs up without saying whether the email was taken", async () => {
    const fresh = await request("POST", "/signup", { body: { email: "new-web@example.com", password: STRONG_PASSWORD } });
    const taken = await request("POST", "/signup", { body: { email: "web@example.com", password: "another-Strong-pass-42" } });
    expect([fresh.status, taken.status]).toEqual([200, 200]);
    const [f, t] = [await fresh.json(), await taken.json()];
    expect(Object.keys(f).sort()).toEqual(Object.keys(t).sort());
    expect(cookiesOf(fresh)).toEqual([]);
    expect((await request("POST", "/login", { body: { email: "new-web@example.com", password: STRONG_PASSWORD } })).status).toBe(200);
    expect((await request("POST", "/login", { body: { email: "web@example.com", password: "another-Strong-pass-42" } })).status).toBe(401); // the taken account kept its password
  });

  it("exposes the JWT to scripts only when the project opts in", async () => {
    const open = await createTestServer({ settings: { allowedOrigins: [APP], exposeJwtToScripts: true, selfSignUp: false } });
    try {
      await open.call("POST", "/v1/passwords", { email: "js@example.com", password: STRONG_PASSWORD });
      const response = await open.app.request(`/sdk/v1/${open.project.publicToken}/login`, {
        method: "POST",
        headers: { origin: APP, "x-tessera-request": "1", "content-type": "application/json" },
        body: JSON.stringify({ email: "js@example.com", password: STRONG_PASSWORD }),
      });
      const body = await response.json();
      expect(body.session_jwt).toMatch(/^ey/);
      const jwtCookie = response.headers.getSetCookie().find((c) => c.startsWith(`tessera_session_jwt_${open.project.project.projectId}=`))!;
      expect(jwtCookie).not.toMatch(/HttpOnly/);
      const signUp = await open.app.request(`/sdk/v1/${open.project.publicToken}/signup`, {
        method: "POST",
        headers: { origin: APP, "x-tessera-request": "1", "content-type": "application/json" },
        body: JSON.stringify({ email: "x@example.com", password: STRONG_PASSWORD }),
      });
      expect(signUp.status).toBe(403);
      expect((await signUp.json()).error_type).toBe("sign_up_disabled");
    } finally {
      await open.close();
    }
  });
});
