import { describe, expect, it } from "vitest";
import { addressNetwork } from "../../src/domain/client-network.js";
import { createTestServer, type TestServer } from "../helpers.js";

/**
 * Per-address limits count an IPv6 client by its /64: one subscriber holds a whole /64, and a limit
 * on single addresses would give it 2^64 budgets.
 */
describe("security: per-address limits count an IPv6 network, not one of its addresses", () => {
  it("gives every spelling of one network one key, and different networks different keys", () => {
    const same: [string, string][] = [
      ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"],
      ["2001:DB8:0001:0002::9", "2001:db8:1:2::"],
      ["2001:db8:1:2:0:0:0:1", "2001:db8:1:2::1%eth0"],
      ["fe80::1", "fe80:0:0:0:abcd::7"],
      ["::ffff:198.51.100.7", "198.51.100.7"],
      ["::ffff:c633:6407", "198.51.100.7"],
    ];
    for (const [a, b] of same) expect(`${a} → ${addressNetwork(a)}`).toBe(`${a} → ${addressNetwork(b)}`);
    const apart: [string, string][] = [
      ["2001:db8:1:2::1", "2001:db8:1:3::1"],
      ["198.51.100.7", "198.51.100.8"],
      ["::1", "::2:0:0:0:1"],
      ["::ffff:198.51.100.7", "::fffe:198.51.100.7"],
    ];
    for (const [a, b] of apart) expect(addressNetwork(a), `${a} vs ${b}`).not.toBe(addressNetwork(b));
    expect(addressNetwork("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressNetwork("1:2:3:4:5:6:1.2.3.4")).toBe("1:2:3:4::/64");
  });

  it("refuses the fourth browser login from another address of the same /64, not from the next /64", async () => {
    const settings = { allowedOrigins: ["http://app.example"], rateLimits: { loginAttemptsPerIpPerMinute: 3, loginFailuresPerEmail: 100 } };
    const server: TestServer = await createTestServer({ env: { TRUST_PROXY: "x-forwarded-for" }, settings });
    const login = (email: string, ip: string) =>
      server.call("POST", `/sdk/v1/${server.project.publicToken}/login`, { email, password: "Wrong-password-1" }, { authorization: "", origin: "http://app.example", "x-tessera-request": "1", "x-forwarded-for": ip });
    try {
      const statuses = [];
      for (const [i, ip] of ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:DB8:1:2:aaaa::3", "2001:db8:1:2::4"].entries()) statuses.push((await login(`u${i}@example.com`, ip)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect((await login("u9@example.com", "2001:db8:1:3::1")).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
