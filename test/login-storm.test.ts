import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "./helpers.js";

/**
 * argon2 and jose's WebCrypto share libuv's thread pool. These tests show the hashing cap holds and
 * that exchanges (JWT signing) keep completing in the middle of a login flood. No timings asserted:
 * only the order of events and the cap, which a slow machine cannot flip.
 */
describe("login floods do not starve token work", () => {
  let server: TestServer;
  beforeAll(async () => {
    // About the hashing cap, not the lockout (which lets only 5 guesses per email reach argon2).
    server = await createTestServer({ env: { PASSWORD_HASH_CONCURRENCY: "2", PASSWORD_HASH_QUEUE_LIMIT: "1000" }, settings: { rateLimits: { loginFailuresPerEmail: 100 } } });
  });
  afterAll(() => server.close());

  it("never hashes more than the cap at once, and exchanges finish while logins still queue", async () => {
    const user = await signUp(server, "storm@example.com");
    const semaphore = server.deps.hashing;
    let maxRunning = 0;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxRunning = Math.max(maxRunning, semaphore.running);
      maxQueued = Math.max(maxQueued, semaphore.queued);
    }, 1);

    let loginsDone = 0;
    const storm = Array.from({ length: 40 }, () =>
      server.call("POST", "/v1/passwords/authenticate", { email: "storm@example.com", password: "wrong-Password-123" }).then((r) => {
        loginsDone++;
        return r.status;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the flood reach the hashing queue

    const loginsDoneAtExchange: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token });
      expect(response.status).toBe(200);
      loginsDoneAtExchange.push(loginsDone);
    }
    const statuses = await Promise.all(storm);
    clearInterval(sampler);

    expect(statuses.every((s) => s === 401)).toBe(true);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(maxRunning).toBeGreaterThan(0);
    expect(maxQueued).toBeGreaterThan(10);
    // All five exchanges (each one an RS256 signature) completed before the flood had drained.
    expect(loginsDoneAtExchange.at(-1)).toBeLessThan(40);
  });

  it("answers 429 too_many_requests with Retry-After when the hashing queue is full", async () => {
    const busy = await createTestServer({ env: { PASSWORD_HASH_CONCURRENCY: "1", PASSWORD_HASH_QUEUE_LIMIT: "0" }, settings: { rateLimits: { loginFailuresPerEmail: 100 } } });
    try {
      await busy.call("POST", "/v1/passwords", { email: "q@example.com", password: "violet-Tractor-sunrise-91!" });
      const responses = await Promise.all(Array.from({ length: 10 }, () => busy.call("POST", "/v1/passwords/authenticate", { email: "q@example.com", password: "violet-Tractor-sunrise-91!" })));
      const refused = responses.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.body.error_type).toBe("too_many_requests");
      expect(refused[0]!.headers.get("retry-after")).toBe("1");
      expect(responses.some((r) => r.status === 200)).toBe(true);
    } finally {
      await busy.close();
    }
  });
});
