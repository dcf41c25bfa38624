import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "../helpers.js";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * An unknown email and a wrong password must be indistinguishable: same answer, and the same work
 * (one full argon2 verification each). Medians of interleaved samples, with a tolerance wide enough
 * for a shared 2-core machine but far narrower than the gap a skipped hash would open (~10×).
 */
describe("security: account enumeration at login", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ settings: { rateLimits: { loginFailuresPerEmail: 1000 } } });
    await signUp(server, "known@example.com");
  });
  afterAll(() => server.close());

  it("answers unknown email and wrong password identically, in indistinguishable median time", async () => {
    const time = async (email: string) => {
      const started = performance.now();
      const response = await server.call("POST", "/v1/passwords/authenticate", { email, password: "not-the-Password-5" });
      return { ms: performance.now() - started, status: response.status, body: response.body };
    };
    await time("known@example.com"); // warm-up
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 15; i++) {
      const a = await time("known@example.com");
      const b = await time(`nobody-${i}@example.com`);
      expect([a.status, b.status]).toEqual([401, 401]);
      expect(a.body.error_type).toBe(b.body.error_type);
      expect(a.body.error_message).toBe(b.body.error_message);
      known.push(a.ms);
      unknown.push(b.ms);
    }
    const ratio = median(unknown) / median(known);
    console.log(`median wrong password ${median(known).toFixed(1)} ms, unknown email ${median(unknown).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.6);
  });
});
