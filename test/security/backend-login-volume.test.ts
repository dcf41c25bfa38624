import { describe, expect, it } from "vitest";
import { ARGON2_PARAMS } from "../../src/crypto/argon2-hasher.js";
import { createListeningTestServer, STRONG_PASSWORD } from "../helpers.js";

/** argon2id at its cheapest: the test is about the limiter, not the hash (the production cost is pinned elsewhere). */
const FAST_ARGON2 = { ...ARGON2_PARAMS, memoryCost: 1024, timeCost: 1 };
const USERS = 200;

/**
 * Issue 14: a backend doing 200 logins a minute for different users, all from its own address, gets
 * no 429 with the default settings, with or without vouching each user's address; and brute force on
 * one email is as strict as ever. Over real HTTP, so every call comes from 127.0.0.1.
 */
describe("security: default limits fit a backend's login traffic", () => {
  it(`${USERS} users logging in through one backend address twice within a minute get no 429; 6 wrong passwords still lock one email`, { timeout: 240_000 }, async () => {
    const server = await createListeningTestServer({ overrides: { argon2Params: FAST_ARGON2 } }); // default project settings
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { authorization: server.authorization, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      const email = (i: number) => `volume-${i}@example.com`;
      const statuses = async (calls: (i: number) => Promise<Response>) => {
        const seen: number[] = [];
        for (let i = 0; i < USERS; i += 8) seen.push(...(await Promise.all(Array.from({ length: Math.min(8, USERS - i) }, (_, k) => calls(i + k).then((r) => r.status)))));
        return seen;
      };
      const started = performance.now();
      expect(new Set(await statuses((i) => post("/v1/passwords", { email: email(i), password: STRONG_PASSWORD })))).toEqual(new Set([200]));
      // the backend's own address only: no per-IP limit applies
      expect(new Set(await statuses((i) => post("/v1/passwords/authenticate", { email: email(i), password: STRONG_PASSWORD, session_duration_minutes: 60 })))).toEqual(new Set([200]));
      // each user's address vouched for: each counted on its own (an IPv6 address as its /64, so one /64 each)
      const address = (i: number) => (i % 2 ? `198.51.100.${i % 250}` : `2001:db8:${i.toString(16)}::1`);
      expect(new Set(await statuses((i) => post("/v1/passwords/authenticate", { email: email(i), password: STRONG_PASSWORD }, { "Tessera-End-User-IP": address(i) })))).toEqual(new Set([200]));
      const seconds = (performance.now() - started) / 1000;
      console.log(`${USERS} sign-ups and ${2 * USERS} backend logins in ${seconds.toFixed(1)} s, no 429`);
      expect(seconds).toBeLessThan(60); // "a minute": the counts above all fell within one limiter window

      const victim = email(7);
      for (let i = 0; i < 5; i++) expect((await post("/v1/passwords/authenticate", { email: victim, password: `Wrong-guess-${i}-x` })).status).toBe(401);
      const sixth = await post("/v1/passwords/authenticate", { email: victim, password: "Wrong-guess-6-x" });
      expect(sixth.status).toBe(429);
      const right = await post("/v1/passwords/authenticate", { email: victim, password: STRONG_PASSWORD }, { "Tessera-End-User-IP": "203.0.113.9" });
      expect(right.status).toBe(429);
      expect((await right.json()).error_type).toBe("too_many_requests");
      expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
      // other users are untouched
      expect((await post("/v1/passwords/authenticate", { email: email(8), password: STRONG_PASSWORD })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
