import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier, TesseraVerifyError, type Verifier, type VerifierOptions } from "../../src/sdk/verify.js";
import { createLocalManagement } from "../../src/management/local.js";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";
import { verifyOutcome } from "./verify-outcome.js";

/** Counts calls per path, so tests can prove a verification made no server call. */
function countingFetch() {
  const calls: string[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    calls.push(new URL(typeof input === "string" || input instanceof URL ? input : input.url).pathname);
    return fetch(input, init);
  };
  return { fetch: wrapped, exchanges: () => calls.filter((p) => p === "/v1/sessions/authenticate").length, calls };
}

const waitUntil = async (condition: () => Promise<boolean> | boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const code = verifyOutcome;

describe("tessera/verify", () => {
  let server: TestServer & { baseUrl: string };
  const verifiers: Verifier[] = [];
  const make = (options: Partial<VerifierOptions> = {}) => {
    const verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, now: () => server.clock.now(), ...options });
    verifiers.push(verifier);
    return verifier;
  };
  const withSecret = () => ({ secret: server.project.secret });

  beforeAll(async () => {
    server = await createListeningTestServer();
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close();
    await server.close();
  });

  it("names iss as the cause when the issuer is what failed, and refuses like any invalid JWT", async () => {
    const login = await signUp(server);
    const verifier = make({ issuers: ["https://auth.elsewhere.example"] });
    const refusal = await verifier.authenticateJwt(login.session_jwt).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TesseraVerifyError);
    expect((refusal as TesseraVerifyError).code).toBe("jwt_invalid");
    expect((refusal as TesseraVerifyError).message).toMatch(/iss is not one this verifier accepts \(https:\/\/auth\.elsewhere\.example\)/);
    // a signature failure says nothing of the kind
    const [h, p, sig] = login.session_jwt.split(".");
    const tampered = `${h}.${p}.${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`;
    const other = await make().authenticateJwt(tampered).catch((error: unknown) => error);
    expect((other as TesseraVerifyError).message).toBe("The JWT did not verify.");
  });

  it("verifies locally, without a server call, and returns the session", async () => {
    const login = await signUp(server);
    const counter = countingFetch();
    const verifier = make({ fetch: counter.fetch });
    const result = await verifier.authenticateJwt(login.session_jwt);
    expect(result).toMatchObject({ user_id: login.user_id, session_jwt: login.session_jwt, verified_by: "local", session: { session_id: login.session.session_id, user_id: login.user_id } });
    await verifier.authenticateJwt(login.session_jwt);
    expect(counter.calls.filter((p) => p.includes("/jwks/"))).toHaveLength(1); // the JWKS is cached
    expect(counter.exchanges()).toBe(0);
  });

  it("keeps one JWKS copy for all its keys, fetches a rotated-in kid after the cooldown, and forgets keys the JWKS dropped", async () => {
    const before = await signUp(server);
    const counter = countingFetch();
    const verifier = make({ fetch: counter.fetch });
    const jwksFetches = () => counter.calls.filter((p) => p.includes("/jwks/")).length;
    for (let i = 0; i < 3; i++) expect((await verifier.authenticateJwt(before.session_jwt)).verified_by).toBe("local");
    expect(jwksFetches()).toBe(1);

    await createLocalManagement(server.deps, "admin-api").rotateKeys(server.project.project.projectId, { now: true });
    const after = await signUp(server);
    expect(await code(verifier.authenticateJwt(after.session_jwt))).toBe("jwt_invalid"); // unknown kid within the 5 s cooldown
    expect(jwksFetches()).toBe(1);
    server.clock.advance(5_000);
    expect((await verifier.authenticateJwt(after.session_jwt)).verified_by).toBe("local");
    expect(jwksFetches()).toBe(2);
    // the old key was retired with the rotation: the new copy no longer has it, and neither does the verifier
    expect(await code(verifier.authenticateJwt(before.session_jwt))).toBe("jwt_invalid");
  });

  it("refuses a clockToleranceSeconds that is not a number from 0 to 300 (a programmer error)", async () => {
    const login = await signUp(server);
    for (const clockToleranceSeconds of [-1, Number.NaN, Number.POSITIVE_INFINITY, 301]) {
      await expect(make().authenticateJwt(login.session_jwt, { clockToleranceSeconds })).rejects.toThrow(TypeError);
    }
    expect((await make().authenticateJwt(login.session_jwt, { clockToleranceSeconds: 5 })).verified_by).toBe("local");
  });

  it("applies maxTokenAgeSeconds with Stytch's semantics: age ≥ limit is too old, 0 always asks", async () => {
    const login = await signUp(server);
    const noSecret = make();
    const counter = countingFetch();
    const exchanging = make({ ...withSecret(), revocationFeed: false, fetch: counter.fetch });

    expect((await noSecret.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 1 })).verified_by).toBe("local"); // age 0
    expect(await code(noSecret.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 0 }))).toBe("jwt_too_old");
    const zero = await exchanging.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 0 });
    expect(zero.verified_by).toBe("server");
    expect(zero.session_jwt).not.toBe(login.session_jwt);

    server.clock.advance(30_000);
    expect((await noSecret.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 31 })).verified_by).toBe("local");
    expect(await code(noSecret.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 30 }))).toBe("jwt_too_old"); // exactly the age
    expect((await noSecret.authenticateJwt(login.session_jwt)).verified_by).toBe("local"); // unset: trusted until exp
    const before = counter.exchanges();
    expect((await exchanging.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 30 })).verified_by).toBe("server");
    expect(counter.exchanges()).toBe(before + 1);
  });

  it("exchanges an expired JWT when it has a secret, refuses it with jwt_expired when not", async () => {
    const login = await signUp(server);
    server.clock.advanceMinutes(6);
    expect(await code(make().authenticateJwt(login.session_jwt))).toBe("jwt_expired");
    const fresh = await make({ ...withSecret(), revocationFeed: false }).authenticateJwt(login.session_jwt);
    expect(fresh.verified_by).toBe("server");
    expect(fresh.session.session_id).toBe(login.session.session_id);
  });

  it("refuses forged, tampered, non-canonical and future tokens as jwt_invalid", async () => {
    const login = await signUp(server);
    const verifier = make();
    const [h, p, s] = login.session_jwt.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const foreignKid = { ...JSON.parse(Buffer.from(h, "base64url").toString()), kid: "unknown-kid" };
    const forgedWithUnknownKid = await new SignJWT(payload).setProtectedHeader(foreignKid).sign(privateKey);
    const realKid = JSON.parse(Buffer.from(h, "base64url").toString()).kid;
    const forgedWithRealKid = await new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: realKid, typ: "JWT" }).sign(privateKey);
    const future = { ...payload, iat: payload.iat + 3600, nbf: payload.iat };
    const cases = {
      tampered: `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: "user-test-other" })).toString("base64url")}.${s}`,
      padded: `${login.session_jwt}==`,
      sameBytesOtherSpelling: `${h}.${p}.${s.slice(0, -1)}${"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(s.at(-1)!) ^ 1]}`,
      spaced: `${login.session_jwt} `,
      none: `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT", kid: realKid })).toString("base64url")}.${p}.`,
      forgedWithUnknownKid,
      forgedWithRealKid,
      futureIat: `${h}.${Buffer.from(JSON.stringify(future)).toString("base64url")}.${s}`,
      garbage: "a.b.c",
    };
    for (const [name, jwt] of Object.entries(cases)) expect(await code(verifier.authenticateJwt(jwt)), name).toBe("jwt_invalid");
    // sanity: the untouched token still verifies, and the foreign key really signs what it claims
    expect((await verifier.authenticateJwt(login.session_jwt)).verified_by).toBe("local");
    await expect(createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "unknown-kid", alg: "RS256" }] })({ alg: "RS256", kid: "unknown-kid" }, undefined as never)).resolves.toBeDefined();
  });

  it("keeps verifying with cached keys through a JWKS outage, and never accepts falsely when the server is gone", async () => {
    const login = await signUp(server);
    let down = false;
    const flaky: typeof fetch = async (input, init) => {
      if (down) throw new TypeError("fetch failed");
      return fetch(input, init);
    };
    const verifier = make({ ...withSecret(), revocationFeed: false, fetch: flaky, jwksCacheSeconds: 60 });
    expect((await verifier.authenticateJwt(login.session_jwt)).verified_by).toBe("local");
    down = true;
    server.clock.advance(90_000); // the JWKS cache is stale and cannot refresh: the last good copy serves
    expect((await verifier.authenticateJwt(login.session_jwt)).verified_by).toBe("local");
    expect(await code(verifier.authenticateJwt(login.session_jwt, { maxTokenAgeSeconds: 0 }))).toBe("server_unavailable");
    server.clock.advanceMinutes(5);
    expect(await code(verifier.authenticateJwt(login.session_jwt))).toBe("server_unavailable"); // expired + no server
    const cold = make({ fetch: flaky });
    expect(await code(cold.authenticateJwt(login.session_jwt))).toBe("server_unavailable"); // no keys ever fetched
  });

  it("rejects a revoked session's unexpired JWT within a second, without per-request server calls", async () => {
    const login = await signUp(server);
    const counter = countingFetch();
    const verifier = make({ ...withSecret(), fetch: counter.fetch });
    await verifier.ready();
    expect((await verifier.authenticateJwt(login.session_jwt)).verified_by).toBe("local");
    const revokedAt = Date.now();
    await server.call("POST", "/v1/sessions/revoke", { session_id: login.session.session_id });
    await waitUntil(async () => (await code(verifier.authenticateJwt(login.session_jwt))) === "session_revoked", 1000);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    expect(counter.exchanges()).toBe(0);
  });

  it("still refuses a revoked session's JWT that only a large clock tolerance keeps alive", async () => {
    const login = await signUp(server);
    const verifier = make(withSecret());
    await verifier.ready();
    await server.call("POST", "/v1/sessions/revoke", { session_id: login.session.session_id });
    await waitUntil(async () => (await code(verifier.authenticateJwt(login.session_jwt))) === "session_revoked", 1000);
    // 400 s on: the JWT (300 s) expired 100 s ago, past JWT lifetime + 60 s of skew since the revocation,
    // but a tolerance of 200 s still accepts it: the deny-list must outlive what a tolerance can stretch.
    server.clock.advance(400_000);
    expect(await code(verifier.authenticateJwt(login.session_jwt, { clockToleranceSeconds: 200 }))).toBe("session_revoked");
    expect(await code(verifier.authenticateJwt(login.session_jwt, { clockToleranceSeconds: 300 }))).toBe("session_revoked");
  });

  it("treats a user's JWTs issued before a change as too old, and exchanges them", async () => {
    const login = await signUp(server);
    const verifier = make(withSecret());
    await verifier.ready();
    server.clock.advance(2000);
    await server.call("PUT", `/v1/users/${login.user_id}`, { roles: ["admin"] });
    server.clock.advance(1000); // a JWT of the change's own second counts as stale too (same-second test in test/security/)
    await waitUntil(async () => (await verifier.authenticateJwt(login.session_jwt)).verified_by === "server", 1000);
    const fresh = await verifier.authenticateJwt(login.session_jwt);
    expect(fresh.session.roles).toEqual(["stytch_user", "admin"]);
    expect((await verifier.authenticateJwt(fresh.session_jwt)).verified_by).toBe("local");
  });

  it("verifies remotely while the feed has been down longer than a JWT lives (fails safe)", async () => {
    const login = await signUp(server);
    let feedDown = false;
    let stream: AbortController | null = null;
    let refusedReconnects = 0;
    const gated: typeof fetch = async (input, init) => {
      const path = new URL(typeof input === "string" || input instanceof URL ? input : input.url).pathname;
      if (!path.endsWith("/revocations/stream")) return fetch(input, init);
      if (feedDown) {
        refusedReconnects++;
        throw new TypeError("fetch failed");
      }
      stream = new AbortController();
      init?.signal?.addEventListener("abort", () => stream?.abort());
      return fetch(input, { ...init, signal: stream.signal });
    };
    const verifier = make({ ...withSecret(), fetch: gated });
    expect(verifier.localVerificationTrusted).toBe(false); // not trusted before the feed has replayed
    await verifier.ready();
    expect(verifier.localVerificationTrusted).toBe(true);

    feedDown = true;
    stream!.abort(); // the connection drops and cannot come back
    await waitUntil(() => refusedReconnects > 0); // the verifier noticed and is retrying
    server.clock.advance(200_000);
    expect(verifier.localVerificationTrusted).toBe(true); // down for less than a JWT lifetime
    server.clock.advance(101_000);
    expect(verifier.localVerificationTrusted).toBe(false);
    const fresh = (await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token })).body.session_jwt;
    expect((await verifier.authenticateJwt(fresh)).verified_by).toBe("server");
  });
});
