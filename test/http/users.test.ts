import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "../helpers.js";

describe("users API", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  it("creates, gets and updates a user in Stytch's shape", async () => {
    const created = await server.call("POST", "/v1/users", {
      email: "Grace@Example.com",
      name: { first_name: "Grace", last_name: "Hopper" },
      trusted_metadata: { plan: "pro", limits: { seats: 5, storage: 10 } },
      untrusted_metadata: { theme: "dark" },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ status_code: 200, status: "active", phone_id: "" });
    expect(created.body.user_id).toMatch(/^user-test-/);
    expect(created.body.email_id).toMatch(/^email-test-/);
    expect(created.body.request_id).toMatch(/^request-id-/);
    const userId = created.body.user_id;

    const got = await server.call("GET", `/v1/users/${userId}`);
    expect(got.body).toMatchObject({
      user_id: userId,
      emails: [{ email: "Grace@Example.com", verified: false }],
      name: { first_name: "Grace", last_name: "Hopper" },
      trusted_metadata: { plan: "pro", limits: { seats: 5, storage: 10 } },
      password: null,
    });
    expect(got.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const updated = await server.call("PUT", `/v1/users/${userId}`, { trusted_metadata: { plan: null, limits: { storage: null, seats: 6 } }, name: { first_name: "Amazing Grace" }, roles: ["admin"] });
    expect(updated.status).toBe(200);
    expect(updated.body.user).toMatchObject({ trusted_metadata: { limits: { seats: 6 } }, name: { first_name: "Amazing Grace", last_name: "Hopper" }, roles: ["admin"], untrusted_metadata: { theme: "dark" } });
    expect(updated.body.user.trusted_metadata.plan).toBeUndefined();
  });

  it("treats emails case-insensitively and refuses duplicates", async () => {
    expect((await server.call("POST", "/v1/users", { email: "dup@example.com" })).status).toBe(200);
    const dup = await server.call("POST", "/v1/users", { email: "DUP@example.com" });
    expect(dup.status).toBe(409);
    expect(dup.body.error_type).toBe("duplicate_email");
  });

  it("refuses malformed emails with invalid_email", async () => {
    for (const email of ["no-at-sign", "a@b", "two@@example.com", "nul\u0000@example.com", `${"x".repeat(250)}@example.com`, "\ud800@example.com"]) {
      const response = await server.call("POST", "/v1/users", { email });
      expect(response.status, email).toBe(400);
      // NUL and lone surrogates are refused for every string, before the email check
      expect(response.body.error_type, email).toBe(/\u0000|\ud800/.test(email) ? "bad_request" : "invalid_email");
    }
  });

  it("deletes a user: sessions revoked, email free again, user gone", async () => {
    const login = await signUp(server, "leaving@example.com");
    const deleted = await server.call("DELETE", `/v1/users/${login.user_id}`);
    expect(deleted.body).toMatchObject({ status_code: 200, user_id: login.user_id });
    const gone = await server.call("GET", `/v1/users/${login.user_id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error_type).toBe("user_not_found");
    expect((await server.call("DELETE", `/v1/users/${login.user_id}`)).status).toBe(404);
    const exchange = await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token });
    expect(exchange.body.error_details).toEqual({ reason: "user_deleted" });
    expect((await server.call("POST", "/v1/users", { email: "leaving@example.com" })).status).toBe(200);
  });

  it("searches by email, fuzzy email, status and pages with a cursor", async () => {
    const search = await createTestServer();
    try {
      for (let i = 0; i < 5; i++) {
        await search.call("POST", "/v1/users", { email: `page${i}@search.example`, create_user_as_pending: i === 4 });
        search.clock.advance(1000);
      }
      await search.call("POST", "/v1/users", { email: "other_100%@elsewhere.example" });

      const exact = await search.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: ["PAGE1@search.example"] }] } });
      expect(exact.body.results.map((u: any) => u.emails[0].email)).toEqual(["page1@search.example"]);

      const pending = await search.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "status", filter_value: "pending" }] } });
      expect(pending.body.results.map((u: any) => u.emails[0].email)).toEqual(["page4@search.example"]);

      const literal = await search.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "email_address_fuzzy", filter_value: "_100%" }] } });
      expect(literal.body.results).toHaveLength(1);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await search.call("POST", "/v1/users/search", { limit: 2, ...(cursor ? { cursor } : {}), query: { operator: "AND", operands: [{ filter_name: "email_address_fuzzy", filter_value: "@search.example" }] } });
        expect(page.status).toBe(200);
        expect(page.body.results_metadata.total).toBe(5);
        seen.push(...page.body.results.map((u: any) => u.emails[0].email));
        cursor = page.body.results_metadata.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `page${i}@search.example`));

      // Stytch's phone filter is accepted and matches no one (Tessera users have no phones); unknown names are 400s.
      const phone = await search.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "phone_number", filter_value: ["+1"] }] } });
      expect([phone.status, phone.body.results]).toEqual([200, []]);
      const unsupported = await search.call("POST", "/v1/users/search", { query: { operator: "AND", operands: [{ filter_name: "shoe_size", filter_value: 42 }] } });
      expect(unsupported.status).toBe(400);
      expect((await search.call("POST", "/v1/users/search", { cursor: "garbage" })).status).toBe(400);
    } finally {
      await search.close();
    }
  });

  it("keeps projects apart", async () => {
    const other = await createTestServer();
    try {
      const mine = await server.call("POST", "/v1/users", { email: "mine@example.com" });
      const peek = await other.call("GET", `/v1/users/${mine.body.user_id}`);
      expect(peek.status).toBe(404);
      expect((await other.call("POST", "/v1/users", { email: "mine@example.com" })).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
