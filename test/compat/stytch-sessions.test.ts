import { randomBytes } from "node:crypto";
import { Client } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListeningTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";
import { stytchErrorOf } from "./stytch-errors.js";

/** The official `stytch` client, unchanged, against the session routes' Stytch behaviours. */

const newEmail = () => `compat-${randomBytes(6).toString("hex")}@example.com`;

describe("compat: sessions through the official stytch client", () => {
  let server: TestServer & { baseUrl: string };
  let client: Client;

  beforeAll(async () => {
    server = await createListeningTestServer();
    client = new Client({ project_id: server.project.project.projectId, secret: server.project.secret, env: `${server.baseUrl}/` });
  });
  afterAll(() => server?.close());

  const login = async () => {
    const email = newEmail();
    await client.passwords.create({ email, password: STRONG_PASSWORD });
    return { email, ...(await client.passwords.authenticate({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 })) };
  };

  it("sessions.authenticate with only the session_jwt returns the session's session_token, as Stytch does", async () => {
    const session = await login();
    const byJwt = await client.sessions.authenticate({ session_jwt: session.session_jwt });
    expect(byJwt.session.session_id).toBe(session.session?.session_id);
    expect(byJwt.session_token).toBe(session.session_token);
    // the token it gave back works as a token
    const byToken = await client.sessions.authenticate({ session_token: byJwt.session_token });
    expect(byToken.session.session_id).toBe(session.session?.session_id);
  });

  it("passwords.authenticate adding a factor to a session named by JWT returns that session's token", async () => {
    const session = await login();
    const again = await client.passwords.authenticate({ email: session.email, password: STRONG_PASSWORD, session_jwt: session.session_jwt });
    expect(again.session?.session_id).toBe(session.session?.session_id);
    expect(again.session_token).toBe(session.session_token);
  });

  it("both session_token and session_jwt given: 400 too_many_session_arguments, and nothing is used", async () => {
    const session = await login();
    const error = await stytchErrorOf(client.sessions.authenticate({ session_token: session.session_token, session_jwt: session.session_jwt, session_duration_minutes: 600 }));
    expect(error.status_code).toBe(400);
    expect(error.error_type).toBe("too_many_session_arguments");
    expect(error.error_message).toMatch(/at most one of session_token or session_jwt/);
    // the refused call extended nothing
    const still = await client.sessions.authenticate({ session_token: session.session_token });
    expect(still.session.expires_at).toBe(session.session?.expires_at);
  });

  it("passwords.existing_password.reset revokes every session of the user, the caller's too (Stytch's documented behaviour)", async () => {
    const session = await login();
    const other = await client.passwords.authenticate({ email: session.email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
    const newPassword = `${STRONG_PASSWORD}-renewed`;
    const reset = await client.passwords.existingPassword.reset({
      email: session.email,
      existing_password: STRONG_PASSWORD,
      new_password: newPassword,
      session_token: session.session_token,
      session_duration_minutes: 60,
    });
    expect(reset.user_id).toBe(session.user_id);
    // A fresh session replaces the caller's, which is revoked with all the others.
    expect(reset.session?.session_id).toEqual(expect.any(String));
    expect(reset.session?.session_id).not.toBe(session.session?.session_id);
    expect(reset.session_token).not.toBe(session.session_token);
    for (const token of [session.session_token, other.session_token]) {
      const refused = await stytchErrorOf(client.sessions.authenticate({ session_token: token }));
      expect(refused.error_type).toBe("session_not_found");
      expect((refused.error_details as unknown as Record<string, unknown>).reason).toBe("revoked");
    }
    const refusedJwt = await stytchErrorOf(client.sessions.authenticate({ session_jwt: session.session_jwt }));
    expect(refusedJwt.error_type).toBe("session_not_found");
    expect((await client.sessions.authenticate({ session_token: reset.session_token })).session.session_id).toBe(reset.session?.session_id);
    const live = await client.sessions.get({ user_id: session.user_id });
    expect(live.sessions.map((s) => s.session_id)).toEqual([reset.session?.session_id]);
    // the new password is the one that logs in
    await expect(client.passwords.authenticate({ email: session.email, password: newPassword })).resolves.toMatchObject({ user_id: session.user_id });
  });

  it("passwords.existing_password.reset without a duration revokes every session and makes none", async () => {
    const session = await login();
    const reset = await client.passwords.existingPassword.reset({ email: session.email, existing_password: STRONG_PASSWORD, new_password: `${STRONG_PASSWORD}-again` });
    expect(reset.session ?? null).toBeNull();
    expect(reset.session_token).toBe("");
    expect((await stytchErrorOf(client.sessions.authenticate({ session_token: session.session_token }))).error_type).toBe("session_not_found");
    expect((await client.sessions.get({ user_id: session.user_id })).sessions).toEqual([]);
  });
});
