import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { Client } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalManagement } from "../../src/management/local.js";
import { createListeningTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";
import { stytchErrorOf } from "./stytch-errors.js";

/** sessions.attest through the official stytch client, against a real local JWKS server (node:http). */
describe("compat: sessions.attest with trusted token profiles", () => {
  let server: TestServer & { baseUrl: string };
  let client: Client;
  let jwksServer: Server;
  let jwksUrl: string;
  let jwksFetches = 0;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;
  const ISSUER = "https://id.partner.example";
  const AUDIENCE = "tessera-compat";
  const profiles = { jit: "", noJit: "" };

  const sign = (claims: Record<string, unknown>, options: { key?: CryptoKey; iss?: string; aud?: string; iatOffset?: number; expOffset?: number; header?: Record<string, unknown> } = {}) => {
    const now = Math.floor(server.clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "partner-1", ...options.header })
      .setIssuer(options.iss ?? ISSUER)
      .setAudience(options.aud ?? AUDIENCE)
      .setIssuedAt(now + (options.iatOffset ?? 0))
      .setNotBefore(now + (options.iatOffset ?? 0))
      .setExpirationTime(now + (options.expOffset ?? 300))
      .setJti(typeof claims.jti === "string" ? claims.jti : randomUUID())
      .sign(options.key ?? privateKey);
  };
  const newEmail = () => `attest-${randomBytes(6).toString("hex")}@example.com`;

  beforeAll(async () => {
    const pair = await generateKeyPair("ES256");
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair("ES256")).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "partner-1", alg: "ES256", use: "sig" };
    jwksServer = createServer((request, response) => {
      jwksFetches++;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;

    server = await createListeningTestServer();
    client = new Client({ project_id: server.project.project.projectId, secret: server.project.secret, env: `${server.baseUrl}/` });
    const management = createLocalManagement(server.deps, "test");
    const projectId = server.project.project.projectId;
    profiles.jit = (await management.createTrustedTokenProfile(projectId, { name: "jit", issuer: ISSUER, audience: AUDIENCE, jwks_url: jwksUrl, attribute_mapping: { email: "mail" }, can_jit_provision: true })).profile_id;
    profiles.noJit = (await management.createTrustedTokenProfile(projectId, { name: "strict", issuer: ISSUER, audience: AUDIENCE, jwks_url: jwksUrl })).profile_id;
  });
  afterAll(async () => {
    await server?.close();
    jwksServer?.closeAllConnections();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it("a good token for a known email makes a session with the trusted_auth_token factor; the JWKS is fetched once and cached", async () => {
    const email = newEmail();
    const created = await client.passwords.create({ email, password: STRONG_PASSWORD });
    const token = await sign({ email, jti: "token-42" });
    const attested = await client.sessions.attest({ profile_id: profiles.noJit, token, session_duration_minutes: 60, session_custom_claims: { tenant: "acme" } });
    expect(attested.user_id).toBe(created.user_id);
    expect(attested.session_token).not.toBe("");
    expect(attested.session?.custom_claims).toEqual({ tenant: "acme" });
    expect(attested.session?.authentication_factors[0]).toMatchObject({ type: "trusted_auth_token", delivery_method: "trusted_token_exchange", trusted_auth_token_factor: { token_id: "token-42" } });
    const exchanged = await client.sessions.authenticate({ session_token: attested.session_token });
    expect(exchanged.session.session_id).toBe(attested.session?.session_id);

    const fetched = jwksFetches;
    await client.sessions.attest({ profile_id: profiles.noJit, token: await sign({ email }) });
    expect(jwksFetches).toBe(fetched);
  });

  it("without session_duration_minutes no session is made; with a session_token the factor joins that session", async () => {
    const email = newEmail();
    const created = await client.passwords.create({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
    const bare = await client.sessions.attest({ profile_id: profiles.noJit, token: await sign({ email }) });
    expect([bare.user_id, bare.session_token, bare.session ?? null]).toEqual([created.user_id, "", null]);
    const joined = await client.sessions.attest({ profile_id: profiles.noJit, token: await sign({ email }), session_token: created.session_token });
    expect(joined.session?.session_id).toBe(created.session?.session_id);
    expect(joined.session?.authentication_factors.map((f) => f.type).sort()).toEqual(["password", "trusted_auth_token"]);
  });

  it("JIT provisioning: on, an unknown email becomes a user (from the mapped claim); off, user_not_found", async () => {
    const email = newEmail();
    const refused = await stytchErrorOf(client.sessions.attest({ profile_id: profiles.noJit, token: await sign({ email }), session_duration_minutes: 60 }));
    expect([refused.status_code, refused.error_type]).toEqual([404, "user_not_found"]);
    const made = await client.sessions.attest({ profile_id: profiles.jit, token: await sign({ mail: email }), session_duration_minutes: 60 });
    expect(made.user.emails.map((e) => e.email)).toEqual([email]);
    expect((await client.users.get({ user_id: made.user_id })).user_id).toBe(made.user_id);
    const again = await client.sessions.attest({ profile_id: profiles.jit, token: await sign({ mail: email }) });
    expect(again.user_id).toBe(made.user_id);
    // the jit profile maps email to "mail": a token with only "email" names nobody
    const unmapped = await stytchErrorOf(client.sessions.attest({ profile_id: profiles.jit, token: await sign({ email }) }));
    expect([unmapped.status_code, unmapped.error_type]).toEqual([401, "jwt_invalid_claims"]);
  });

  it("refuses an expired token, a wrong audience, a wrong issuer, a foreign signature, forbidden headers and an unknown profile", async () => {
    const email = newEmail();
    await client.passwords.create({ email, password: STRONG_PASSWORD });
    const attempt = async (token: string, profileId = profiles.noJit) => stytchErrorOf(client.sessions.attest({ profile_id: profileId, token, session_duration_minutes: 60 }));
    const expired = await attempt(await sign({ email }, { iatOffset: -3600, expOffset: -600 }));
    expect([expired.status_code, expired.error_type, expired.error_message]).toEqual([401, "jwt_invalid_claims", "The token has expired."]);
    const audience = await attempt(await sign({ email }, { aud: "someone-else" }));
    expect([audience.status_code, audience.error_type]).toEqual([401, "jwt_invalid_audience"]);
    const issuer = await attempt(await sign({ email }, { iss: "https://evil.example" }));
    expect([issuer.status_code, issuer.error_type]).toEqual([401, "jwt_invalid_issuer"]);
    const foreign = await attempt(await sign({ email }, { key: otherKey }));
    expect([foreign.status_code, foreign.error_type]).toEqual([401, "invalid_token"]);
    const jku = await attempt(await sign({ email }, { header: { jku: "https://evil.example/jwks.json" } }));
    expect([jku.status_code, jku.error_type]).toEqual([401, "invalid_token"]);
    const [h, p] = (await sign({ email })).split(".");
    const none = await attempt(`${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${p}.`);
    expect(none.error_type).toBe("invalid_token");
    expect(h).toBeTruthy();
    const unknown = await attempt(await sign({ email }), "trusted-token-profile-test-00000000-0000-4000-8000-000000000000");
    expect([unknown.status_code, unknown.error_type]).toEqual([404, "trusted_token_profile_not_found"]);
    // nothing was made for any refusal
    expect((await client.users.search({ query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [email] }] } })).results[0]!.user_id).toBeTruthy();
    const sessions = await client.sessions.get({ user_id: (await client.users.search({ query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [email] }] } })).results[0]!.user_id });
    expect(sessions.sessions).toEqual([]);
  });

  it("a deleted profile's tokens are refused at once", async () => {
    const management = createLocalManagement(server.deps, "test");
    const projectId = server.project.project.projectId;
    const temporary = await management.createTrustedTokenProfile(projectId, { name: "temporary", issuer: ISSUER, audience: AUDIENCE, jwks_url: jwksUrl, can_jit_provision: true });
    expect((await management.listTrustedTokenProfiles(projectId)).map((p) => p.profile_id)).toContain(temporary.profile_id);
    await management.deleteTrustedTokenProfile(projectId, temporary.profile_id);
    const refused = await stytchErrorOf(client.sessions.attest({ profile_id: temporary.profile_id, token: await sign({ email: newEmail() }) }));
    expect(refused.error_type).toBe("trusted_token_profile_not_found");
    await expect(management.createTrustedTokenProfile(projectId, { name: "x", issuer: ISSUER, audience: AUDIENCE, jwks_url: "http://partner.example/jwks.json" })).rejects.toMatchObject({ type: "invalid_trusted_token_profile" });
  });
});
