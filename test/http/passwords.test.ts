import { hash } from "@node-rs/argon2";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const NEW_PASSWORD = "orbit-Lantern-meadow-47?";

describe("passwords API", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  const login = (email: string, password: string, extra: Record<string, unknown> = {}) => server.call("POST", "/v1/passwords/authenticate", { email, password, ...extra });

  it("creates a user with a password; a session only when a duration is given", async () => {
    const withSession = await server.call("POST", "/v1/passwords", { email: "a@pw.example", password: STRONG_PASSWORD, session_duration_minutes: 30 });
    expect(withSession.status).toBe(200);
    expect(withSession.body.session_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(withSession.body.user.password.password_id).toMatch(/^password-test-/);
    const without = await server.call("POST", "/v1/passwords", { email: "b@pw.example", password: STRONG_PASSWORD });
    expect(without.body).toMatchObject({ session: null, session_token: "", session_jwt: "" });
  });

  it("stores an argon2id hash with OWASP parameters", async () => {
    const user = await signUp(server);
    const result = await server.deps.database.db.execute(sql`select hash from passwords where user_id = ${user.user_id}`);
    const row = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as { hash: string };
    expect(row.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.hash).not.toContain(STRONG_PASSWORD);
  });

  it("refuses weak passwords with weak_password", async () => {
    for (const password of ["password", "short", "12345678", "a@pw-weak.example"]) {
      const response = await server.call("POST", "/v1/passwords", { email: "a@pw-weak.example", password });
      expect(response.status, password).toBe(400);
      expect(response.body.error_type).toBe("weak_password");
    }
    const check = await server.call("POST", "/v1/passwords/strength_check", { password: "password123" });
    expect(check.body).toMatchObject({ valid_password: false, breached_password: true, strength_policy: "zxcvbn" });
    const good = await server.call("POST", "/v1/passwords/strength_check", { password: STRONG_PASSWORD });
    expect(good.body).toMatchObject({ valid_password: true, breached_password: false });
    expect(good.body.score).toBeGreaterThanOrEqual(3);
  });

  it("logs in; a session is made only when asked", async () => {
    await server.call("POST", "/v1/passwords", { email: "c@pw.example", password: STRONG_PASSWORD });
    const noSession = await login("C@PW.example", STRONG_PASSWORD);
    expect(noSession.status).toBe(200);
    expect(noSession.body.session).toBeNull();
    const withSession = await login("c@pw.example", STRONG_PASSWORD, { session_duration_minutes: 5 });
    expect(withSession.body.session.authentication_factors[0]).toMatchObject({ type: "password", delivery_method: "knowledge" });
  });

  it("answers an unknown email exactly like a wrong password", async () => {
    await server.call("POST", "/v1/passwords", { email: "d@pw.example", password: STRONG_PASSWORD });
    const wrong = await login("d@pw.example", "not-the-Password-1");
    const unknown = await login("nobody@pw.example", "not-the-Password-1");
    const malformed = await login("not an email", "not-the-Password-1");
    for (const response of [wrong, unknown, malformed]) {
      expect(response.status).toBe(401);
      expect(response.body.error_type).toBe("unauthorized_credentials");
      expect(response.body.error_message).toBe(wrong.body.error_message);
    }
  });

  it("adds the factor to a presented session instead of starting another", async () => {
    const user = await signUp(server, "e@pw.example");
    server.clock.advance(5000);
    const again = await login("e@pw.example", STRONG_PASSWORD, { session_token: user.session_token });
    expect(again.body.session.session_id).toBe(user.session.session_id);
    expect(again.body.session.authentication_factors).toHaveLength(1);
    expect(again.body.session.authentication_factors[0].last_authenticated_at).toBe(server.clock.now().toISOString());

    const stranger = await signUp(server, "f@pw.example");
    const mismatch = await login("f@pw.example", STRONG_PASSWORD, { session_token: user.session_token });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error_type).toBe("session_user_mismatch");
    expect(stranger.user_id).not.toBe(user.user_id);
  });

  it("upgrades a hash made with weaker parameters on the next good login", async () => {
    const user = await signUp(server, "g@pw.example");
    const weak = await hash(STRONG_PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await server.deps.database.db.execute(sql`update passwords set hash = ${weak} where user_id = ${user.user_id}`);
    expect((await login("g@pw.example", STRONG_PASSWORD)).status).toBe(200);
    const result = await server.deps.database.db.execute(sql`select hash from passwords where user_id = ${user.user_id}`);
    const row = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as { hash: string };
    expect(row.hash).toMatch(/m=19456,t=2,p=1/);
    expect((await login("g@pw.example", STRONG_PASSWORD)).status).toBe(200);
  });

  it("resets with the existing password and revokes every session, the named one too", async () => {
    const first = await signUp(server, "h@pw.example");
    const second = await login("h@pw.example", STRONG_PASSWORD, { session_duration_minutes: 60 });
    const reset = await server.call("POST", "/v1/passwords/existing_password/reset", {
      email: "h@pw.example",
      existing_password: STRONG_PASSWORD,
      new_password: NEW_PASSWORD,
      session_token: second.body.session_token,
    });
    expect(reset.status).toBe(200);
    expect(reset.body.session).toBeNull(); // no duration: no new session
    // Stytch revokes every session of the user, the one named in the request too.
    for (const token of [first.session_token, second.body.session_token]) {
      const refused = await server.call("POST", "/v1/sessions/authenticate", { session_token: token });
      expect(refused.body.error_details).toEqual({ reason: "revoked" });
    }
    expect((await login("h@pw.example", STRONG_PASSWORD)).status).toBe(401);
    expect((await login("h@pw.example", NEW_PASSWORD)).status).toBe(200);
    const wrongExisting = await server.call("POST", "/v1/passwords/existing_password/reset", { email: "h@pw.example", existing_password: "nope-Nope-nope-1", new_password: STRONG_PASSWORD });
    expect(wrongExisting.body.error_type).toBe("unauthorized_credentials");
  });

  it("resets with a recently authenticated session and revokes the others", async () => {
    const first = await signUp(server, "i@pw.example");
    const other = await login("i@pw.example", STRONG_PASSWORD, { session_duration_minutes: 60 });
    const reset = await server.call("POST", "/v1/passwords/session/reset", { session_token: first.session_token, password: NEW_PASSWORD });
    expect(reset.status).toBe(200);
    expect(reset.body.session.session_id).toBe(first.session.session_id);
    expect((await server.call("POST", "/v1/sessions/authenticate", { session_token: other.body.session_token })).status).toBe(404);
    expect((await login("i@pw.example", NEW_PASSWORD)).status).toBe(200);

    server.clock.advanceMinutes(6);
    const stale = await server.call("POST", "/v1/passwords/session/reset", { session_token: first.session_token, password: STRONG_PASSWORD });
    expect(stale.status).toBe(400);
    expect(stale.body.error_type).toBe("session_too_old_to_reset_password");
  });

  it("refuses an absurdly long password before hashing", async () => {
    const response = await server.call("POST", "/v1/passwords/authenticate", { email: "c@pw.example", password: "x".repeat(4000) });
    expect(response.status).toBe(400);
    expect(response.body.error_type).toBe("weak_password");
  });
});
