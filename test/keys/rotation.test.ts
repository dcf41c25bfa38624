import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { Client } from "stytch";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pino } from "pino";
import { createDeps, type Deps } from "../../src/deps.js";
import { systemClock } from "../../src/domain/clock.js";
import { forceRotation } from "../../src/domain/key-rotation.js";
import { JWKS_MAX_AGE_SECONDS, KEY_CACHE_SECONDS, PUBLICATION_LEAD_SECONDS, retentionSeconds } from "../../src/domain/keys.js";
import { createProject, updateProject, type CreatedProject } from "../../src/domain/projects.js";
import { createApp } from "../../src/http/app.js";
import { runKeyRotation } from "../../src/jobs/key-rotation-job.js";
import { createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";

/**
 * The process's Date is faked (timers stay real), so the server, jose's remote JWKS cache and the
 * stytch client all live on one clock this test moves: two full rotations in seconds of real time.
 */
describe("signing key rotation", () => {
  let environment: TestEnvironment;
  let deps: Deps;
  let http: Server;
  let baseUrl: string;
  let created: CreatedProject;
  let sessionToken: string;
  const DAY = 86_400;

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-03-01T00:00:00Z") });
    http = createServer();
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    environment = await createTestEnvironment({ PUBLIC_URL: baseUrl });
    deps = await createDeps(environment.config, { clock: systemClock, logger: pino({ level: "silent" }), inMemoryDatabase: true });
    http.on("request", getRequestListener(createApp(deps).fetch));
    created = await createProject(deps, { name: "rotation", settings: { keyRotationIntervalDays: 1 } });
    const signUp = await post("/v1/passwords", { email: "rot@example.com", password: STRONG_PASSWORD, session_duration_minutes: 527_040 });
    sessionToken = signUp.session_token;
  });
  afterAll(async () => {
    vi.useRealTimers();
    await new Promise((resolve) => http.close(resolve));
    await deps.close();
    await environment.cleanup();
  });

  async function post(path: string, body: unknown) {
    const response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${created.project.projectId}:${created.secret}`).toString("base64")}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await response.json()) as any;
  }
  const mint = async () => (await post("/v1/sessions/authenticate", { session_token: sessionToken })).session_jwt as string;
  const advance = (seconds: number) => vi.setSystemTime(new Date(Date.now() + seconds * 1000));
  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid!;
  const published = async () => ((await (await fetch(`${baseUrl}/v1/sessions/jwks/${created.project.projectId}`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  it("walks two full rotations; every valid token verifies, retired keys' tokens never do", async () => {
    // A verifier that honours the JWKS Cache-Control (jose defaults to 10 minutes; see README "Keys").
    const jwks = createRemoteJWKSet(new URL(`/v1/sessions/jwks/${created.project.projectId}`, baseUrl), { cacheMaxAge: JWKS_MAX_AGE_SECONDS * 1000 });
    const stytch = new Client({ project_id: created.project.projectId, secret: created.secret, env: `${baseUrl}/` });
    const verifyEverywhere = async (jwt: string) => {
      const { payload } = await jwtVerify(jwt, jwks, { issuer: `stytch.com/${created.project.projectId}`, audience: created.project.projectId });
      const session = await stytch.sessions.authenticateJwtLocal({ session_jwt: jwt });
      expect(session.user_id).toBe(payload.sub);
    };
    // Even judged at a moment when it had not expired, a retired key's token no longer verifies.
    const refusedEverywhere = async (jwt: string, at: Date) => {
      await expect(jwtVerify(jwt, jwks, { issuer: `stytch.com/${created.project.projectId}`, audience: created.project.projectId, currentDate: at })).rejects.toThrow(/no applicable key/i);
      await expect(stytch.sessions.authenticateJwtLocal({ session_jwt: jwt })).rejects.toThrow();
      const exchange = await post("/v1/sessions/authenticate", { session_jwt: jwt });
      expect(exchange.error_type).toBe("session_not_found");
    };

    let current = await mint();
    await verifyEverywhere(current);
    const retiredTokens: { jwt: string; mintedAt: Date }[] = [];

    for (let rotation = 0; rotation < 2; rotation++) {
      const oldKid = kidOf(current);
      // A publication lead before the interval ends, the next key appears in the JWKS but does not sign.
      advance(DAY - PUBLICATION_LEAD_SECONDS - (rotation === 0 ? 0 : retentionSeconds(300)) + 1);
      const moves = await runKeyRotation(deps);
      expect(moves?.map((m) => m.to)).toEqual(["created"]);
      const nextKid = moves![0]!.kid;
      expect(await published()).toContain(nextKid);
      current = await mint();
      expect(kidOf(current)).toBe(oldKid);
      await verifyEverywhere(current);

      // Just before activation: a token of the old key, still valid after the switch.
      advance(PUBLICATION_LEAD_SECONDS - 11);
      const lastOfOld = await mint();
      const lastOfOldAt = new Date();
      advance(11);
      expect((await runKeyRotation(deps))?.map((m) => m.to)).toEqual(["current", "previous"]);
      current = await mint();
      expect(kidOf(current)).toBe(nextKid);
      await verifyEverywhere(current);
      await verifyEverywhere(lastOfOld); // previous keys keep verifying in-flight tokens
      expect(await published()).toEqual(expect.arrayContaining([oldKid, nextKid]));

      // At the last second of the old key's last token, nothing is retired and it still verifies.
      advance(288);
      expect(await runKeyRotation(deps)).toEqual([]);
      await verifyEverywhere(lastOfOld);

      // Once every token of the old key has expired, it is retired and leaves the JWKS.
      advance(retentionSeconds(300) - 288);
      expect((await runKeyRotation(deps))?.map((m) => m.to)).toEqual(["retired"]);
      expect(await published()).not.toContain(oldKid);
      retiredTokens.push({ jwt: lastOfOld, mintedAt: lastOfOldAt });
      for (const token of retiredTokens) await refusedEverywhere(token.jwt, new Date(token.mintedAt.getTime() + 1000));
      current = await mint();
      await verifyEverywhere(current);
    }
  });

  it("a forced --now rotation stops the old key's tokens at the exchange", async () => {
    const before = await mint();
    expect((await post("/v1/sessions/authenticate", { session_jwt: before })).status_code).toBe(200);
    const moves = await forceRotation(deps, created.project, { immediately: true });
    expect(moves.at(-1)!.to).toBe("current");
    advance(KEY_CACHE_SECONDS); // other instances see the change within their key cache lifetime
    const refused = await post("/v1/sessions/authenticate", { session_jwt: before });
    expect(refused.error_type).toBe("session_not_found");
    const after = await mint();
    expect(kidOf(after)).toBe(moves.at(-1)!.kid);
    expect(await published()).toEqual([moves.at(-1)!.kid]);
  });

  it("a change of algorithm takes effect at the next rotation", async () => {
    await updateProject(deps, created.project.projectId, { settings: { jwtAlgorithm: "ES256" } }, "test");
    expect(decodeProtectedHeader(await mint()).alg).toBe("RS256");
    const moves = await forceRotation(deps, (await deps.store.projects.get(created.project.projectId))!, { immediately: false });
    advance(PUBLICATION_LEAD_SECONDS);
    await runKeyRotation(deps);
    expect(moves[0]!.to).toBe("created");
    expect(decodeProtectedHeader(await mint()).alg).toBe("ES256");
  });

  it("pins verification to each key's algorithm", async () => {
    const jwt = await mint();
    const [header, payload, signature] = jwt.split(".");
    const decoded = JSON.parse(Buffer.from(header!, "base64url").toString());
    for (const alg of ["none", "HS256", "RS256", "PS256", "NONE"]) {
      const forged = `${Buffer.from(JSON.stringify({ ...decoded, alg })).toString("base64url")}.${payload}.${alg.toLowerCase() === "none" ? "" : signature}`;
      expect((await post("/v1/sessions/authenticate", { session_jwt: forged })).error_type, alg).toBe("session_not_found");
    }
  });

  it("serves a JWKS cache lifetime that ends when a previous key is due to retire", async () => {
    await forceRotation(deps, (await deps.store.projects.get(created.project.projectId))!, { immediately: false });
    advance(PUBLICATION_LEAD_SECONDS);
    await runKeyRotation(deps); // a previous key now retires in retentionSeconds(300)
    advance(retentionSeconds(300) - 100);
    const response = await fetch(`${baseUrl}/v1/sessions/jwks/${created.project.projectId}`);
    expect(response.headers.get("cache-control")).toBe("public, max-age=100");
  });
});
