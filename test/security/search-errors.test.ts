import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedLogger, createTestServer, signUp, type TestServer } from "../helpers.js";

const cursor = (createdAt: string, userId: string) => Buffer.from(JSON.stringify([createdAt, userId])).toString("base64url");

/**
 * users.search answered 500 for values Postgres cannot take (a NUL in text, dates outside its
 * range), and the 500's log line carried the query's parameters, past the log redaction.
 */
describe("security: users.search refuses what Postgres cannot take, and DB errors never log parameters", () => {
  const { logger, lines } = capturedLogger();
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ overrides: { logger } });
    await signUp(server, "someone@example.com");
  });
  afterAll(() => server.close());

  const search = (body: unknown) => server.call("POST", "/v1/users/search", body);
  const expectClear400 = async (body: unknown) => {
    const response = await search(body);
    expect(response.status, JSON.stringify(body)).toBe(400);
    expect(response.body).toMatchObject({ status_code: 400, error_type: "bad_request", request_id: expect.any(String), error_url: expect.any(String) });
    expect(response.body.error_message).toMatch(/cursor|created_at/);
  };

  it("answers 400 for crafted cursors: a NUL in the user id, years -271821 and +275760", async () => {
    await expectClear400({ cursor: cursor("2026-01-15T12:00:00.000Z", "user-test-\u0000x") });
    await expectClear400({ cursor: cursor("-271821-04-20T00:00:00.000Z", "user-test-x") });
    await expectClear400({ cursor: cursor("+275760-09-13T00:00:00.000Z", "user-test-x") });
    await expectClear400({ cursor: cursor("2026-01-15T12:00:00.000Z", "x".repeat(300)) });
  });

  it("answers 400 for dates Postgres cannot hold in created_at filters", async () => {
    const operand = (filter_name: string, filter_value: unknown) => ({ query: { operator: "AND", operands: [{ filter_name, filter_value }] } });
    await expectClear400(operand("created_at_greater_than", "0000-01-01T00:00:00Z"));
    await expectClear400(operand("created_at_less_than", "0000-12-31T23:59:59Z"));
    await expectClear400(operand("created_at_between", { greater_than: "2020-01-01T00:00:00Z", less_than: "0000-01-01T00:00:00Z" }));
    expect((await search(operand("created_at_greater_than", "0001-01-01T00:00:00Z"))).status).toBe(200);
  });

  it("logs an unexpected database error with its code and query shape, never its parameters", async () => {
    const marker = "leak-marker-7f3a@example.com";
    await server.deps.database.db.execute(sql`alter table users rename to users_elsewhere`);
    try {
      const response = await search({ query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [marker] }] } });
      expect(response.status).toBe(500);
      expect(JSON.stringify(response.body)).not.toContain(marker);
    } finally {
      await server.deps.database.db.execute(sql`alter table users_elsewhere rename to users`);
    }
    const errors = lines.map((line) => JSON.parse(line)).filter((record) => record.level >= 50);
    expect(errors.length).toBeGreaterThan(0);
    const logged = JSON.stringify(errors);
    expect(logged).not.toContain(marker);
    expect(logged).not.toContain(server.project.project.projectId);
    expect(logged).toContain("42P01"); // undefined_table: enough to know what broke
  });
});
