import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_CLAIM } from "../../src/domain/jwt.js";
import { createTestServer, signUp, type TestServer } from "../helpers.js";

describe("sessions: the exchange, revoke, list", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ settings: { idleTimeoutMinutes: 30, absoluteLifetimeMinutes: 120 } });
  });
  afterAll(() => server.close());

  const exchange = (body: Record<string, unknown>) => server.call("POST", "/v1/sessions/authenticate", body);

  it("stores only the SHA-256 of the 43-character session token", async () => {
    const login = await signUp(server);
    expect(login.session_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await server.deps.database.db.execute(sql`select token_hash from sessions where session_id = ${login.session.session_id}`);
    const row = (Array.isArray(rows) ? rows[0] : (rows as { rows: unknown[] }).rows[0]) as { token_hash: string };
    expect(row.token_hash).toBe(createHash("sha256").update(login.session_token).digest("hex"));
    const dump = JSON.stringify(await server.deps.database.db.execute(sql`select * from sessions`));
    expect(dump).not.toContain(login.session_token);
  });

  it("mints a JWT with the design's header and claims", async () => {
    const login = await signUp(server);
    const header = decodeProtectedHeader(login.session_jwt);
    expect(header).toMatchObject({ alg: "RS256", typ: "JWT" });
    expect(typeof header.kid).toBe("string");
    const claims = decodeJwt(login.session_jwt);
    const now = Math.floor(server.clock.now().getTime() / 1000);
    expect(claims).toMatchObject({ iss: `stytch.com/${server.project.project.projectId}`, aud: [server.project.project.projectId], sub: login.user_id, iat: now, nbf: now, exp: now + 300 });
    expect(typeof claims.jti).toBe("string");
    expect(claims[SESSION_CLAIM]).toMatchObject({ id: login.session.session_id, expires_at: login.session.expires_at.replace("Z", ".000Z"), roles: ["stytch_user"] });
  });

  it("exchanges a session token for a fresh JWT after checking the database", async () => {
    const login = await signUp(server);
    server.clock.advance(10_000);
    const response = await exchange({ session_token: login.session_token });
    expect(response.status).toBe(200);
    expect(response.body.session.session_id).toBe(login.session.session_id);
    expect(response.body.session_token).toBe(login.session_token);
    expect(response.body.session_jwt).not.toBe(login.session_jwt);
    expect(decodeJwt(response.body.session_jwt).iat).toBe(Math.floor(server.clock.now().getTime() / 1000));
    expect(response.body.user.user_id).toBe(login.user_id);
  });

  it("accepts an expired JWT whose signature verifies: it names the session", async () => {
    const login = await signUp(server);
    server.clock.advanceMinutes(10); // the 5-minute JWT has expired, the 60-minute session has not
    const response = await exchange({ session_jwt: login.session_jwt });
    expect(response.status).toBe(200);
    expect(response.body.session.session_id).toBe(login.session.session_id);
    expect(response.body.session_token).toBe(login.session_token); // opened from its sealed copy
  });

  it("refuses a JWT with a tampered payload, a foreign signature or garbage, as session_not_found", async () => {
    const login = await signUp(server);
    const [h, p, s] = login.session_jwt.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    payload.sub = "user-test-someone-else";
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    for (const jwt of [tampered, `${h}.${p}.${s}==`, `${h}.${p}.`, "not-a-jwt", `${login.session_jwt} `]) {
      const response = await exchange({ session_jwt: jwt });
      expect(response.status, jwt).toBe(404);
      expect(response.body).toMatchObject({ error_type: "session_not_found", error_details: { reason: "not_found" } });
    }
  });

  it("refuses a JWT of another project", async () => {
    const other = await createTestServer();
    try {
      const foreign = await signUp(other);
      const response = await exchange({ session_jwt: foreign.session_jwt });
      expect(response.status).toBe(404);
      expect(response.body.error_type).toBe("session_not_found");
    } finally {
      await other.close();
    }
  });

  it("says why a session is refused: revoked, expired, idle_timeout, user_deleted, not_found", async () => {
    const revoked = await signUp(server);
    expect((await server.call("POST", "/v1/sessions/revoke", { session_id: revoked.session.session_id })).status).toBe(200);
    expect((await exchange({ session_token: revoked.session_token })).body.error_details).toEqual({ reason: "revoked" });

    const deleted = await signUp(server);
    expect((await server.call("DELETE", `/v1/users/${deleted.user_id}`)).status).toBe(200);
    expect((await exchange({ session_token: deleted.session_token })).body.error_details).toEqual({ reason: "user_deleted" });

    const idle = await signUp(server);
    server.clock.advanceMinutes(31);
    expect((await exchange({ session_token: idle.session_token })).body.error_details).toEqual({ reason: "idle_timeout" });

    const expiring = await signUp(server);
    for (let i = 0; i < 2; i++) {
      server.clock.advanceMinutes(25);
      expect((await exchange({ session_token: expiring.session_token })).status).toBe(200);
    }
    server.clock.advanceMinutes(25); // 75 minutes in: past the 60-minute session, though never idle
    const expired = await exchange({ session_token: expiring.session_token });
    expect(expired.status).toBe(404);
    expect(expired.body.error_details).toEqual({ reason: "expired" });

    const unknown = await exchange({ session_token: "A".repeat(43) });
    expect(unknown.body).toMatchObject({ status_code: 404, error_type: "session_not_found", error_details: { reason: "not_found" } });
  });

  it("extends only when asked, and never past the absolute cap", async () => {
    const login = await signUp(server);
    const plain = await exchange({ session_token: login.session_token });
    expect(plain.body.session.expires_at).toBe(login.session.expires_at);

    server.clock.advanceMinutes(20);
    const extended = await exchange({ session_token: login.session_token, session_duration_minutes: 60 });
    expect(new Date(extended.body.session.expires_at).getTime()).toBe(server.clock.now().getTime() + 60 * 60_000);

    server.clock.advanceMinutes(20); // 40 minutes after start; the cap is 120
    const capped = await exchange({ session_token: login.session_token, session_duration_minutes: 600 });
    const startedAt = new Date(capped.body.session.started_at).getTime();
    expect(new Date(capped.body.session.expires_at).getTime()).toBe(startedAt + 120 * 60_000);
    expect(decodeJwt(capped.body.session_jwt).exp).toBeLessThanOrEqual(Math.floor((startedAt + 120 * 60_000) / 1000));
  });

  it("never mints a JWT that outlives its session", async () => {
    const login = await signUp(server);
    server.clock.advanceMinutes(29);
    await exchange({ session_token: login.session_token }); // keeps it from idling out
    server.clock.advanceMinutes(29); // two minutes of session left, less than the JWT lifetime
    const response = await exchange({ session_token: login.session_token });
    expect(decodeJwt(response.body.session_jwt).exp).toBe(Math.floor(new Date(login.session.expires_at).getTime() / 1000));
  });

  it("writes last_accessed_at at most once a minute", async () => {
    const login = await signUp(server);
    const loggedInAt = login.session.last_accessed_at;
    server.clock.advance(30_000);
    const early = await exchange({ session_token: login.session_token });
    expect(early.body.session.last_accessed_at).toBe(loggedInAt);
    server.clock.advance(31_000);
    const due = await exchange({ session_token: login.session_token });
    expect(due.body.session.last_accessed_at).toBe(server.clock.now().toISOString().replace(".000Z", "Z"));
    const stored = await server.call("GET", `/v1/sessions?user_id=${login.user_id}`);
    expect(stored.body.sessions[0].last_accessed_at).toBe(due.body.session.last_accessed_at);
  });

  it("sets custom claims through the exchange; null deletes; reserved names and oversize are refused", async () => {
    const login = await signUp(server);
    const set = await exchange({ session_token: login.session_token, session_custom_claims: { plan: "pro", org: { id: "o1", tier: 2 } } });
    expect(set.status).toBe(200);
    expect(decodeJwt(set.body.session_jwt)).toMatchObject({ plan: "pro", org: { id: "o1", tier: 2 } });

    const removed = await exchange({ session_token: login.session_token, session_custom_claims: { plan: null, org: { tier: null } } });
    const claims = decodeJwt(removed.body.session_jwt);
    expect(claims.plan).toBeUndefined();
    expect(claims.org).toEqual({ id: "o1" });
    expect(removed.body.session.custom_claims).toEqual({ org: { id: "o1" } });

    for (const reserved of ["sub", "exp", "iss", SESSION_CLAIM]) {
      const refused = await exchange({ session_token: login.session_token, session_custom_claims: { [reserved]: "x" } });
      expect(refused.status, reserved).toBe(400);
      expect(refused.body.error_type).toBe("invalid_custom_claims");
    }
    const big = await exchange({ session_token: login.session_token, session_custom_claims: { blob: "x".repeat(5000) } });
    expect(big.body.error_type).toBe("invalid_custom_claims");
    const polluting = await exchange({ session_token: login.session_token, session_custom_claims: JSON.parse('{"__proto__":{"polluted":true}}') });
    expect(polluting.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the refused requests changed nothing
    expect((await exchange({ session_token: login.session_token })).body.session.custom_claims).toEqual({ org: { id: "o1" } });
  });

  it("revokes by exactly one of session_id, session_token, session_jwt", async () => {
    const a = await signUp(server);
    const both = await server.call("POST", "/v1/sessions/revoke", { session_id: a.session.session_id, session_token: a.session_token });
    expect(both.status).toBe(400);
    expect((await server.call("POST", "/v1/sessions/revoke", {})).status).toBe(400);
    expect((await exchange({ session_token: a.session_token })).status).toBe(200);

    expect((await server.call("POST", "/v1/sessions/revoke", { session_jwt: a.session_jwt })).status).toBe(200);
    expect((await exchange({ session_token: a.session_token })).body.error_details).toEqual({ reason: "revoked" });

    const b = await signUp(server);
    expect((await server.call("POST", "/v1/sessions/revoke", { session_token: b.session_token })).status).toBe(200);
    expect((await exchange({ session_jwt: b.session_jwt })).status).toBe(404);
    expect((await server.call("POST", "/v1/sessions/revoke", { session_id: "session-test-nope" })).body.error_type).toBe("session_not_found");
  });

  it("lists a user's live sessions only", async () => {
    const first = await signUp(server);
    const email = (await server.call("GET", `/v1/users/${first.user_id}`)).body.emails[0].email;
    const second = await server.call("POST", "/v1/passwords/authenticate", { email, password: "violet-Tractor-sunrise-91!", session_duration_minutes: 30 });
    expect((await server.call("GET", `/v1/sessions?user_id=${first.user_id}`)).body.sessions).toHaveLength(2);
    await server.call("POST", "/v1/sessions/revoke", { session_id: first.session.session_id });
    const listed = await server.call("GET", `/v1/sessions?user_id=${first.user_id}`);
    expect(listed.body.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([second.body.session.session_id]);
  });

  it("serves the JWKS without auth, with caching headers, ETag and 304", async () => {
    const projectId = server.project.project.projectId;
    const response = await server.app.request(`/v1/sessions/jwks/${projectId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
    const etag = response.headers.get("etag");
    expect(etag).toMatch(/^"[^"]+"$/);
    const body = await response.json();
    expect(body.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(body.keys[0].d).toBeUndefined(); // never the private part
    const again = await server.app.request(`/v1/sessions/jwks/${projectId}`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    const unknown = await server.app.request("/v1/sessions/jwks/project-test-unknown");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_type).toBe("project_not_found");
  });
});

describe("sessions: other algorithms", () => {
  for (const [alg, kty] of [["ES256", "EC"], ["EdDSA", "OKP"]] as const) {
    it(`mints and exchanges ${alg} JWTs when the project chooses it`, async () => {
      const server = await createTestServer({ settings: { jwtAlgorithm: alg } });
      try {
        const login = await signUp(server);
        expect(decodeProtectedHeader(login.session_jwt).alg).toBe(alg);
        const jwks = await (await server.app.request(`/v1/sessions/jwks/${server.project.project.projectId}`)).json();
        expect(jwks.keys[0]).toMatchObject({ kty, alg, use: "sig" });
        const response = await server.call("POST", "/v1/sessions/authenticate", { session_jwt: login.session_jwt });
        expect(response.status).toBe(200);
      } finally {
        await server.close();
      }
    });
  }
});
