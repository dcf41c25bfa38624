import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const ORIGIN = "http://app.example";

/** Addresses are validated as HTML's "valid e-mail address" (WHATWG), with a dot in the domain and RFC 5321's lengths. */
describe("security: email addresses are validated, not just shape-checked", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ settings: { allowedOrigins: [ORIGIN] } });
  });
  afterAll(() => server.close());

  const INVALID = [
    "<script>@x.com",
    "<img src=x onerror=alert(1)>@x.com",
    'a"b@x.com',
    "a b@x.com",
    "a,b@x.com",
    "a@b@x.com",
    "(comment)a@x.com",
    "a@[127.0.0.1]",
    "a@-x.com",
    "a@x-.com",
    "a@x_y.com",
    "a@x..com",
    "a@x.com.",
    "a@localhost",
    "ünï@x.com",
    "a@exämple.com",
    `${"l".repeat(65)}@x.com`,
    `a@${"d".repeat(64)}.com`,
    `a@${Array.from({ length: 4 }, () => "d".repeat(62)).join(".")}.com`, // over 254 characters
  ];
  const VALID = ["o'brien+tag@sub.example.co.uk", "a.b-c_d@x-y.example", "{x}|~^`=?#$%&*/!@e.xn--p1ai", `${"l".repeat(64)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(57)}.com`];

  it("refuses what HTML's definition refuses, with a clear invalid_email, on the backend and the browser API", async () => {
    for (const email of INVALID) {
      const created = await server.call("POST", "/v1/users", { email });
      expect(created.status, email).toBe(400);
      expect(created.body.error_type, email).toBe("invalid_email");
      expect(created.body.error_message, email).toMatch(/name@example\.com/);
      expect((await server.call("POST", "/v1/passwords", { email, password: STRONG_PASSWORD })).body.error_type, email).toBe("invalid_email");
    }
    const browser = await server.call("POST", `/sdk/v1/${server.project.publicToken}/signup`, { email: "<script>@x.com", password: STRONG_PASSWORD }, { authorization: "", origin: ORIGIN, "x-tessera-request": "1" });
    expect(browser.body.error_type).toBe("invalid_email");
    const users = await server.deps.database.db.execute(sql`select count(*)::int as n from users`);
    expect(JSON.stringify(users)).toMatch(/"n":0\b/);
  });

  it("accepts what it allows, up to 254 characters", async () => {
    expect(VALID.at(-1)).toHaveLength(254);
    for (const email of VALID) expect((await server.call("POST", "/v1/users", { email })).status, email).toBe(200);
  });

  it("still logs in an account whose address predates the rule, and answers a malformed login like a wrong password", async () => {
    await signUp(server, "legacy@example.com");
    await server.deps.database.db.execute(sql`update users set email = 'légacy@example.com' where email = 'legacy@example.com'`);
    expect((await server.call("POST", "/v1/passwords/authenticate", { email: "légacy@example.com", password: STRONG_PASSWORD })).status).toBe(200);
    const malformed = await server.call("POST", "/v1/passwords/authenticate", { email: "<script>@x.com", password: STRONG_PASSWORD });
    expect(malformed.status).toBe(401);
    expect(malformed.body.error_type).toBe("unauthorized_credentials");
  });
});
