import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";

/** Many argon2 hashes: room for a busy shared machine. */
const ARGON2_HEAVY = { timeout: 120_000 };

const ORIGIN = "http://app.example";

const signUpFrom = (server: TestServer, ip: string, email: string) =>
  server.call("POST", `/sdk/v1/${server.project.publicToken}/signup`, { email, password: STRONG_PASSWORD }, { authorization: "", origin: ORIGIN, "x-tessera-request": "1", "x-forwarded-for": ip });

const accounts = async (server: TestServer) => {
  const result = await server.deps.database.db.execute(sql`select count(*)::int as n from users`);
  return (Array.isArray(result) ? result[0] : (result as { rows: { n: number }[] }).rows[0])!.n as number;
};

/** Each browser sign-up is an argon2 hash and an account: one address, or everyone at once, gets a budget. */
describe("security: browser sign-up is rate limited", () => {
  it("allows 20 sign-ups an hour from one address by default: of 40 at once, 20 make an account, 20 get 429 + Retry-After", ARGON2_HEAVY, async () => {
    const server = await createTestServer({ env: { TRUST_PROXY: "x-forwarded-for" }, settings: { allowedOrigins: [ORIGIN] } });
    try {
      const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => signUpFrom(server, "198.51.100.7", `flood-${i}@example.com`)));
      const refused = responses.filter((r) => r.status === 429);
      expect(responses.filter((r) => r.status === 200)).toHaveLength(20);
      expect(refused).toHaveLength(20);
      expect(refused[0]!.body.error_type).toBe("too_many_requests");
      expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await accounts(server)).toBe(20);
      expect((await signUpFrom(server, "198.51.100.8", "neighbour@example.com")).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("caps sign-ups per project, whatever the addresses", ARGON2_HEAVY, async () => {
    const server = await createTestServer({ env: { TRUST_PROXY: "x-forwarded-for" }, settings: { allowedOrigins: [ORIGIN], rateLimits: { signUpsPerProjectPerMinute: 3 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await signUpFrom(server, `203.0.113.${i}`, `spread-${i}@example.com`)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await accounts(server)).toBe(3);
    } finally {
      await server.close();
    }
  });
});
