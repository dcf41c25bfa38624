import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { decodeProtectedHeader } from "jose";
import { pino } from "pino";
import { Client } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps, type Deps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createApp } from "../../src/http/app.js";
import { createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { freePort } from "../server-process.js";
import { stytchErrorOf } from "./stytch-errors.js";

/**
 * The official `stytch` Node client against a real listening Tessera, on the real system clock:
 * the client verifies JWTs locally against wall-clock time through the JWKS endpoint.
 */

const newEmail = () => `compat-${randomBytes(6).toString("hex")}@example.com`;

describe("compat: the official stytch Node client against a listening Tessera", () => {
  let environment: TestEnvironment;
  let deps: Deps;
  let server: Server;
  let project: CreatedProject;
  let baseUrl: string;
  let client: Client;
  /** "METHOD /path" of every request the server received, to tell local verification from a server call. */
  const received: string[] = [];
  const exchangesReceived = () => received.filter((r) => r === "POST /v1/sessions/authenticate").length;

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    environment = await createTestEnvironment({ PORT: String(port), PUBLIC_URL: baseUrl });
    deps = await createDeps(environment.config, { logger: pino({ level: "silent" }), inMemoryDatabase: true });
    const app = createApp(deps);
    project = await createProject(deps, { name: "compat" });
    server = await new Promise<Server>((resolve) => {
      const listening = serve(
        {
          fetch: (request, env) => {
            received.push(`${request.method} ${new URL(request.url).pathname}`);
            return app.fetch(request, env);
          },
          port,
          hostname: "127.0.0.1",
        },
        () => resolve(listening as Server),
      );
    });
    client = new Client({ project_id: project.project.projectId, secret: project.secret, env: `${baseUrl}/` });
  });

  afterAll(async () => {
    if (server) {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    }
    await deps?.close();
    await environment?.cleanup();
  });

  it("passwords.create → passwords.authenticate → sessions.authenticate → authenticateJwt (local, then forced remote) → authenticateJwtLocal → sessions.get → sessions.revoke → session_not_found", async () => {
    const email = newEmail();

    const created = await client.passwords.create({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
    expect(created.status_code).toBe(200);
    expect(created.user_id).toMatch(/^user-test-/);
    expect(created.user.emails.map((e) => e.email)).toEqual([email]);
    expect(created.session_token).not.toBe("");
    expect(created.session_jwt).not.toBe("");
    expect(created.session?.user_id).toBe(created.user_id);

    const login = await client.passwords.authenticate({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
    expect(login.user_id).toBe(created.user_id);
    const sessionId = login.session?.session_id;
    expect(sessionId).toMatch(/^session-test-/);
    expect(sessionId).not.toBe(created.session?.session_id);
    expect(login.session_token).not.toBe(created.session_token);

    const exchanged = await client.sessions.authenticate({ session_token: login.session_token });
    expect(exchanged.session.session_id).toBe(sessionId);
    expect(exchanged.session.user_id).toBe(created.user_id);
    expect(exchanged.user.user_id).toBe(created.user_id);
    expect(exchanged.session_token).toBe(login.session_token);
    expect(exchanged.session_jwt).not.toBe("");
    const jwt = exchanged.session_jwt;

    // Local verification through the JWKS: the very JWT comes back and no exchange reaches the server.
    const exchangesBeforeLocal = exchangesReceived();
    const local = await client.sessions.authenticateJwt({ session_jwt: jwt });
    expect(local.session_jwt).toBe(jwt);
    expect(local.session.session_id).toBe(sessionId);
    expect(local.session.user_id).toBe(created.user_id);
    expect(exchangesReceived()).toBe(exchangesBeforeLocal);
    expect(received).toContain(`GET /v1/sessions/jwks/${project.project.projectId}`);

    // max_token_age_seconds: 0 forces the server, which mints a fresh JWT for the same session.
    const remote = await client.sessions.authenticateJwt({ session_jwt: jwt, max_token_age_seconds: 0 });
    expect(exchangesReceived()).toBe(exchangesBeforeLocal + 1);
    expect(remote.session_jwt).not.toBe(jwt);
    expect(remote.session_jwt).not.toBe("");
    expect(remote.session.session_id).toBe(sessionId);

    const verifiedLocally = await client.sessions.authenticateJwtLocal({ session_jwt: remote.session_jwt });
    expect(verifiedLocally.session_id).toBe(sessionId);
    expect(verifiedLocally.user_id).toBe(created.user_id);
    expect(exchangesReceived()).toBe(exchangesBeforeLocal + 1);

    const listed = await client.sessions.get({ user_id: created.user_id });
    expect(listed.sessions.map((s) => s.session_id)).toContain(sessionId);

    const revoked = await client.sessions.revoke({ session_id: sessionId! });
    expect(revoked.status_code).toBe(200);
    const listedAfter = await client.sessions.get({ user_id: created.user_id });
    expect(listedAfter.sessions.map((s) => s.session_id)).not.toContain(sessionId);

    const error = await stytchErrorOf(client.sessions.authenticate({ session_token: login.session_token }));
    expect(error.status_code).toBe(404);
    expect(error.error_type).toBe("session_not_found");
    expect(typeof error.error_message).toBe("string");
    expect(error.error_message.length).toBeGreaterThan(0);
    expect(typeof error.request_id).toBe("string");
    expect(error.request_id.length).toBeGreaterThan(0);
    // Typed as a Map by the client, but it is the parsed JSON object.
    expect((error.error_details as unknown as Record<string, unknown> | undefined)?.reason).toBe("revoked");
  });

  it("users.get returns the user created through passwords.create", async () => {
    const email = newEmail();
    const created = await client.passwords.create({ email, password: STRONG_PASSWORD });
    const user = await client.users.get({ user_id: created.user_id });
    expect(user.status_code).toBe(200);
    expect(user.user_id).toBe(created.user_id);
    expect(user.emails.map((e) => e.email)).toEqual([email]);
    expect(user.status).toBe("active");
    expect(user.password?.password_id).toBeTruthy();
  });

  it("users.update sets trusted_metadata, and a key set to null is deleted", async () => {
    const created = await client.passwords.create({ email: newEmail(), password: STRONG_PASSWORD });
    const first = await client.users.update({ user_id: created.user_id, trusted_metadata: { plan: "pro", seats: 3 } });
    expect(first.user.trusted_metadata).toEqual({ plan: "pro", seats: 3 });

    const second = await client.users.update({ user_id: created.user_id, trusted_metadata: { seats: null } });
    expect(second.user.trusted_metadata).toEqual({ plan: "pro" });
    expect(second.user.trusted_metadata).not.toHaveProperty("seats");

    const stored = await client.users.get({ user_id: created.user_id });
    expect(stored.trusted_metadata).toEqual({ plan: "pro" });
  });

  it("users.search by email_address finds exactly that user", async () => {
    const email = newEmail();
    const wanted = await client.passwords.create({ email, password: STRONG_PASSWORD });
    const other = await client.passwords.create({ email: newEmail(), password: STRONG_PASSWORD });
    const found = await client.users.search({ query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [email] }] } });
    expect(found.results.map((u) => u.user_id)).toEqual([wanted.user_id]);
    expect(found.results.map((u) => u.user_id)).not.toContain(other.user_id);
  });

  it("users.delete removes the user: users.get then rejects with user_not_found", async () => {
    const created = await client.passwords.create({ email: newEmail(), password: STRONG_PASSWORD });
    const deleted = await client.users.delete({ user_id: created.user_id });
    expect(deleted.status_code).toBe(200);
    expect(deleted.user_id).toBe(created.user_id);

    const error = await stytchErrorOf(client.users.get({ user_id: created.user_id }));
    expect(error.status_code).toBe(404);
    expect(error.error_type).toBe("user_not_found");
  });

  it("passwords.strengthCheck rejects a weak password and accepts a strong one", async () => {
    const weak = await client.passwords.strengthCheck({ password: "password1" });
    expect(weak.valid_password).toBe(false);
    const strong = await client.passwords.strengthCheck({ password: STRONG_PASSWORD });
    expect(strong.valid_password).toBe(true);
  });

  it("a wrong password at passwords.authenticate is 401 unauthorized_credentials", async () => {
    const email = newEmail();
    await client.passwords.create({ email, password: STRONG_PASSWORD });
    const error = await stytchErrorOf(client.passwords.authenticate({ email, password: `${STRONG_PASSWORD}x` }));
    expect(error.status_code).toBe(401);
    expect(error.error_type).toBe("unauthorized_credentials");
  });

  it("an unknown email at passwords.authenticate fails exactly like a wrong password", async () => {
    const email = newEmail();
    await client.passwords.create({ email, password: STRONG_PASSWORD });
    const wrongPassword = await stytchErrorOf(client.passwords.authenticate({ email, password: `${STRONG_PASSWORD}x` }));
    const unknownEmail = await stytchErrorOf(client.passwords.authenticate({ email: newEmail(), password: STRONG_PASSWORD }));
    expect(unknownEmail.status_code).toBe(401);
    expect(unknownEmail.error_type).toBe("unauthorized_credentials");
    expect([unknownEmail.status_code, unknownEmail.error_type, unknownEmail.error_message]).toEqual([
      wrongPassword.status_code,
      wrongPassword.error_type,
      wrongPassword.error_message,
    ]);
  });

  it("sessions.getJWKS publishes the signing key the session JWTs name", async () => {
    const jwks = await client.sessions.getJWKS({ project_id: project.project.projectId });
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) {
      expect(key.kid).toEqual(expect.any(String));
      expect(key.kid.length).toBeGreaterThan(0);
      expect(key.alg).toBe("RS256");
      expect(key.use).toBe("sig");
    }
    const created = await client.passwords.create({ email: newEmail(), password: STRONG_PASSWORD, session_duration_minutes: 60 });
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(created.session_jwt).kid);
  });

  it("a client with a wrong secret gets 401 unauthorized_credentials", async () => {
    const wrong = new Client({ project_id: project.project.projectId, secret: `secret-test-${randomBytes(32).toString("base64url")}`, env: `${baseUrl}/` });
    const error = await stytchErrorOf(wrong.users.search({}));
    expect(error.status_code).toBe(401);
    expect(error.error_type).toBe("unauthorized_credentials");
  });
});
