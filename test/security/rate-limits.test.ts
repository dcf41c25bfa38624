import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createTestServer, REDIS_URL, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const login = (server: TestServer, email: string, password: string, headers: Record<string, string> = {}) =>
  server.call("POST", "/v1/passwords/authenticate", { email, password }, headers);

describe("security: brute force and rate limits", () => {
  it("locks an email out after repeated failures, even against the right password, and releases it; lockouts grow", async () => {
    const server = await createTestServer({ settings: { rateLimits: { loginFailuresPerEmail: 3, lockoutSeconds: 1, maxLockoutSeconds: 4 } } });
    try {
      await signUp(server, "victim@example.com");
      for (let i = 0; i < 3; i++) expect((await login(server, "victim@example.com", `guess-Number-${i}`)).status).toBe(401);
      const locked = await login(server, "victim@example.com", STRONG_PASSWORD);
      expect(locked.status).toBe(429);
      expect(locked.body.error_type).toBe("too_many_requests");
      expect(Number(locked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // an unknown email is locked exactly the same way: a lockout reveals nothing
      for (let i = 0; i < 3; i++) await login(server, "ghost@example.com", `guess-Number-${i}`);
      expect((await login(server, "ghost@example.com", "any-Password-1")).status).toBe(429);

      await new Promise((resolve) => setTimeout(resolve, 1100)); // the first lockout is 1 s
      expect((await login(server, "victim@example.com", STRONG_PASSWORD)).status).toBe(200);

      for (let i = 0; i < 3; i++) await login(server, "victim@example.com", `guess-Again-${i}`);
      const second = await login(server, "victim@example.com", STRONG_PASSWORD);
      expect(second.status).toBe(429);
      expect(Number(second.headers.get("retry-after"))).toBe(2); // the second lockout doubles

      const events = await server.deps.database.db.execute(sql`select count(*)::int as n from events where type = 'login.locked'`);
      expect(JSON.stringify(events)).toMatch(/"n":3\b/);
    } finally {
      await server.close();
    }
  });

  it("caps browser login attempts per client IP, reading the proxy header only when TRUST_PROXY names it", async () => {
    // (backend logins are counted per IP only under a vouched end-user address: backend-login-ip.test.ts)
    const settings = { allowedOrigins: ["http://app.example"], rateLimits: { loginAttemptsPerIpPerMinute: 3, loginFailuresPerEmail: 100 } };
    const browserLogin = (server: TestServer, email: string, headers: Record<string, string>) =>
      server.call("POST", `/sdk/v1/${server.project.publicToken}/login`, { email, password: "Wrong-password-1" }, { authorization: "", origin: "http://app.example", "x-tessera-request": "1", ...headers });
    const trusting = await createTestServer({ env: { TRUST_PROXY: "x-forwarded-for" }, settings });
    try {
      const from = (ip: string) => ({ "x-forwarded-for": `203.0.113.9, ${ip}` }); // the right-most hop is our proxy's view
      for (let i = 0; i < 3; i++) expect((await browserLogin(trusting, `u${i}@example.com`, from("198.51.100.7"))).status).toBe(401);
      expect((await browserLogin(trusting, "u9@example.com", from("198.51.100.7"))).status).toBe(429);
      expect((await browserLogin(trusting, "u9@example.com", from("198.51.100.8"))).status).toBe(401);
    } finally {
      await trusting.close();
    }
    const untrusting = await createTestServer({ settings });
    try {
      // without TRUST_PROXY a spoofed header is ignored (app.request has no socket address: no per-IP counter at all)
      for (let i = 0; i < 5; i++) expect((await browserLogin(untrusting, `u${i}@example.com`, { "x-forwarded-for": `10.0.0.${i}` })).status).toBe(401);
    } finally {
      await untrusting.close();
    }
  });

  it("limits exchanges per session and API calls per secret, with Retry-After", async () => {
    const server = await createTestServer({ settings: { rateLimits: { exchangesPerSessionPerMinute: 3, apiCallsPerSecretPerMinute: 12 } } });
    try {
      const user = await signUp(server); // 1 API call
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const other = await signUp(server); // another session has its own budget
      expect((await server.call("POST", "/v1/sessions/authenticate", { session_token: other.session_token })).status).toBe(200);
      let last = await server.call("GET", `/v1/users/${user.user_id}`);
      for (let i = 0; i < 10 && last.status !== 429; i++) last = await server.call("GET", `/v1/users/${user.user_id}`);
      expect(last.status).toBe(429);
      expect(last.body.error_type).toBe("too_many_requests");
      expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it("falls back to per-process limits when Redis is down, never to none", async () => {
    const server = await createTestServer({ env: { REDIS_URL: "redis://127.0.0.1:1" }, settings: { rateLimits: { exchangesPerSessionPerMinute: 2 } } });
    try {
      const user = await signUp(server);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token })).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await server.close();
    }
  });

  it.runIf(REDIS_URL)("shares counters across instances through Redis", async () => {
    const a = await createTestServer({ settings: { rateLimits: { exchangesPerSessionPerMinute: 2 } } });
    const { Redis } = await import("ioredis");
    const client = new Redis(REDIS_URL!);
    try {
      const user = await signUp(a);
      // a second limiter on the same Redis (another instance) uses up the session's whole budget
      const { createRateLimiter } = await import("../../src/redis/rate-limiter.js");
      const { SHARE_INTERVAL_MS } = await import("../../src/redis/shared-counter.js");
      const other = createRateLimiter(client);
      const rule = { name: "exchange", points: 2, durationSeconds: 60 };
      expect(other.consumeShared(rule, user.session.session_id).allowed).toBe(true);
      expect(other.consumeShared(rule, user.session.session_id).allowed).toBe(true);
      const settle = () => new Promise((resolve) => setTimeout(resolve, SHARE_INTERVAL_MS * 4));
      await settle(); // the other instance has shared its count
      // `a` has not shared yet, so it admits within one interval (the documented overshoot)…
      expect((await a.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token })).status).toBe(200);
      await settle();
      // …and once it has, it refuses: alone, it would still have one exchange of its budget left.
      const refused = await a.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      client.disconnect();
      await a.close();
    }
  });
});
