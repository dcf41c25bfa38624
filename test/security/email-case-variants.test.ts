import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

/**
 * JavaScript's toLowerCase() and Postgres' lower() disagree on a few letters: "İ" (U+0130) is "i̇" in
 * JavaScript and "i" in Postgres, a final "Σ" is "ς" in JavaScript and "σ" in Postgres. If the lockout
 * keys on one and the account lookup on the other, a locked account opens under a variant spelling.
 */
describe("security: a lockout covers every spelling that can log into the account", () => {
  let server: TestServer;
  const login = (email: string, password: string) => server.call("POST", "/v1/passwords/authenticate", { email, password });
  const lockOut = async (email: string) => {
    for (let i = 0; i < 5; i++) expect((await login(email, `wrong-Guess-${i}-x`)).status).toBe(401);
    expect((await login(email, STRONG_PASSWORD)).status).toBe(429);
  };

  beforeAll(async () => {
    server = await createTestServer();
    await signUp(server, "victim@example.com");
    await signUp(server, "ascii@example.com");
    // an account from before addresses had to be ASCII
    await signUp(server, "as@example.com");
    await server.deps.database.db.execute(sql`update users set email = 'aσ@example.com' where email = 'as@example.com'`);
    expect((await login("aσ@example.com", STRONG_PASSWORD)).status).toBe(200);
  });
  afterAll(() => server.close());

  it("vİctim@ (U+0130) does not log into the locked victim@", async () => {
    await lockOut("victim@example.com");
    const variant = await login("vİctim@example.com", STRONG_PASSWORD);
    expect(variant.status).not.toBe(200);
    expect(variant.body.user_id).toBeUndefined();
  });

  it("aΣ@ (final capital sigma) does not log into the locked aσ@", async () => {
    await lockOut("aσ@example.com");
    const variant = await login("aΣ@example.com", STRONG_PASSWORD);
    expect(variant.status).not.toBe(200);
    expect(variant.body.user_id).toBeUndefined();
  });

  it("ASCII case variants share the one lockout", async () => {
    await lockOut("ASCII@Example.com");
    expect((await login("ascii@example.com", STRONG_PASSWORD)).status).toBe(429);
  });
});
