import { randomBytes } from "node:crypto";
import { Client } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListeningTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";
import { stytchErrorOf } from "./stytch-errors.js";

/** The official `stytch` client, unchanged, against the user routes Stytch has beyond create/get/update/delete. */

const newEmail = () => `users-${randomBytes(6).toString("hex")}@example.com`;

describe("compat: user factor routes through the official stytch client", () => {
  let server: TestServer & { baseUrl: string };
  let client: Client;
  const eventsOf = async (userId: string) => (await server.deps.store.events.list(server.project.project.projectId, { userId, limit: 50 })).map((e) => e.type);

  beforeAll(async () => {
    server = await createListeningTestServer();
    client = new Client({ project_id: server.project.project.projectId, secret: server.project.secret, env: `${server.baseUrl}/` });
  });
  afterAll(() => server?.close());

  it("users.exchangePrimaryFactor swaps the email (new unverified email id); the password then logs in with the new address only", async () => {
    const before = newEmail();
    const after = newEmail();
    const created = await client.passwords.create({ email: before, password: STRONG_PASSWORD });
    const oldEmailId = created.email_id;
    const exchanged = await client.users.exchangePrimaryFactor({ user_id: created.user_id, email_address: after });
    expect(exchanged.status_code).toBe(200);
    expect(exchanged.user_id).toBe(created.user_id);
    expect(exchanged.user.emails).toHaveLength(1);
    expect(exchanged.user.emails[0]).toMatchObject({ email: after, verified: false });
    expect(exchanged.user.emails[0]!.email_id).not.toBe(oldEmailId);
    expect((await client.users.get({ user_id: created.user_id })).emails.map((e) => e.email)).toEqual([after]);
    await expect(client.passwords.authenticate({ email: after, password: STRONG_PASSWORD })).resolves.toMatchObject({ user_id: created.user_id });
    expect((await stytchErrorOf(client.passwords.authenticate({ email: before, password: STRONG_PASSWORD }))).error_type).toBe("unauthorized_credentials");
    expect(await eventsOf(created.user_id)).toContain("user.updated");
  });

  it("users.exchangePrimaryFactor refuses a phone number, no factor, a taken email and an unknown user", async () => {
    const taken = newEmail();
    await client.passwords.create({ email: taken, password: STRONG_PASSWORD });
    const created = await client.passwords.create({ email: newEmail(), password: STRONG_PASSWORD });
    const phone = await stytchErrorOf(client.users.exchangePrimaryFactor({ user_id: created.user_id, phone_number: "+12025550162" }));
    expect([phone.status_code, phone.error_type]).toEqual([400, "invalid_exchange_primary_factor_fields"]);
    const none = await stytchErrorOf(client.users.exchangePrimaryFactor({ user_id: created.user_id }));
    expect([none.status_code, none.error_type]).toEqual([400, "invalid_exchange_primary_factor_fields"]);
    const duplicate = await stytchErrorOf(client.users.exchangePrimaryFactor({ user_id: created.user_id, email_address: taken.toUpperCase() }));
    expect([duplicate.status_code, duplicate.error_type]).toEqual([409, "duplicate_email"]);
    const unknown = await stytchErrorOf(client.users.exchangePrimaryFactor({ user_id: "user-test-00000000-0000-4000-8000-000000000000", email_address: newEmail() }));
    expect([unknown.status_code, unknown.error_type]).toEqual([404, "user_not_found"]);
  });

  it("users.deleteEmail removes the email (freed for another user); exchangePrimaryFactor gives the user one back", async () => {
    const email = newEmail();
    const created = await client.passwords.create({ email, password: STRONG_PASSWORD });
    const deleted = await client.users.deleteEmail({ email_id: created.email_id });
    expect(deleted.user_id).toBe(created.user_id);
    expect(deleted.user.emails).toEqual([]);
    expect(deleted.user.password?.password_id).toBeTruthy(); // the password stays
    expect((await stytchErrorOf(client.passwords.authenticate({ email, password: STRONG_PASSWORD }))).error_type).toBe("unauthorized_credentials");
    const again = await stytchErrorOf(client.users.deleteEmail({ email_id: created.email_id }));
    expect([again.status_code, again.error_type]).toEqual([404, "email_not_found"]);
    // the address is free: another user may take it
    await expect(client.users.create({ email })).resolves.toMatchObject({ status_code: 200 });
    const fresh = newEmail();
    await client.users.exchangePrimaryFactor({ user_id: created.user_id, email_address: fresh });
    await expect(client.passwords.authenticate({ email: fresh, password: STRONG_PASSWORD })).resolves.toMatchObject({ user_id: created.user_id });
  });

  it("users.deletePassword removes the password: the old one no longer logs in, live sessions stay", async () => {
    const email = newEmail();
    const created = await client.passwords.create({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
    const passwordId = (await client.users.get({ user_id: created.user_id })).password!.password_id;
    const deleted = await client.users.deletePassword({ password_id: passwordId });
    expect(deleted.user_id).toBe(created.user_id);
    expect(deleted.user.password ?? null).toBeNull();
    expect((await client.users.get({ user_id: created.user_id })).password ?? null).toBeNull();
    expect((await stytchErrorOf(client.passwords.authenticate({ email, password: STRONG_PASSWORD }))).error_type).toBe("unauthorized_credentials");
    expect((await client.sessions.authenticate({ session_token: created.session_token })).session.user_id).toBe(created.user_id);
    const again = await stytchErrorOf(client.users.deletePassword({ password_id: passwordId }));
    expect([again.status_code, again.error_type]).toEqual([404, "password_not_found"]);
    expect(await eventsOf(created.user_id)).toEqual(expect.arrayContaining(["password.deleted", "user.updated"]));
  });

  it("users.deleteExternalId clears external_id", async () => {
    const created = await client.users.create({ email: newEmail(), external_id: "crm-4711" });
    expect(created.user.external_id).toBe("crm-4711");
    const cleared = await client.users.deleteExternalId({ user_id: created.user_id });
    expect(cleared.user_id).toBe(created.user_id);
    expect(cleared.user.external_id).toBe("");
    expect((await client.users.get({ user_id: created.user_id })).external_id).toBe("");
    const unknown = await stytchErrorOf(client.users.deleteExternalId({ user_id: "user-test-00000000-0000-4000-8000-000000000000" }));
    expect([unknown.status_code, unknown.error_type]).toEqual([404, "user_not_found"]);
  });

  describe("users.search with Stytch's filter names", () => {
    const tag = randomBytes(4).toString("hex");
    const ids = { withPassword: "", noPassword: "", pending: "" };
    let emailIdWithPassword = "";
    const search = async (operator: "AND" | "OR", operands: { filter_name: string; filter_value: unknown }[]) =>
      (await client.users.search({ query: { operator, operands: operands as never } })).results.map((u) => u.user_id).sort();
    const tagged = { filter_name: "email_address_fuzzy", filter_value: tag };

    beforeAll(async () => {
      const a = await client.passwords.create({ email: `a-${tag}@search.example`, password: STRONG_PASSWORD });
      ids.withPassword = a.user_id;
      emailIdWithPassword = a.email_id;
      ids.noPassword = (await client.users.create({ email: `b-${tag}@search.example` })).user_id;
      ids.pending = (await client.users.create({ email: `c-${tag}@search.example`, create_user_as_pending: true })).user_id;
    });

    it("password_exists, email_id, email_verified filter what Tessera users have", async () => {
      expect(await search("AND", [tagged, { filter_name: "password_exists", filter_value: true }])).toEqual([ids.withPassword]);
      expect(await search("AND", [tagged, { filter_name: "password_exists", filter_value: false }])).toEqual([ids.noPassword, ids.pending].sort());
      expect(await search("AND", [{ filter_name: "email_id", filter_value: [emailIdWithPassword] }])).toEqual([ids.withPassword]);
      expect(await search("AND", [tagged, { filter_name: "email_verified", filter_value: false }])).toEqual(Object.values(ids).sort());
      expect(await search("AND", [tagged, { filter_name: "email_verified", filter_value: true }])).toEqual([]);
    });

    it("OR unites operands; AND intersects them", async () => {
      const byEmailId = { filter_name: "email_id", filter_value: [emailIdWithPassword] };
      const byUserId = { filter_name: "user_id", filter_value: [ids.pending] };
      expect(await search("OR", [byEmailId, byUserId])).toEqual([ids.withPassword, ids.pending].sort());
      expect(await search("AND", [byEmailId, byUserId])).toEqual([]);
      expect(await search("AND", [tagged, { filter_name: "status", filter_value: "pending" }])).toEqual([ids.pending]);
    });

    it("filters over factors Tessera users never have (phone, WebAuthn, TOTP, crypto wallets, OAuth) match no user", async () => {
      const none: [string, unknown][] = [
        ["phone_number", ["+12025550162"]],
        ["phone_id", ["phone-number-test-1"]],
        ["phone_verified", false],
        ["phone_number_fuzzy", "555"],
        ["webauthn_registration_verified", false],
        ["webauthn_registration_id", ["webauthn-registration-test-1"]],
        ["crypto_wallet_id", ["crypto-wallet-test-1"]],
        ["crypto_wallet_address", ["0x0"]],
        ["crypto_wallet_verified", false],
        ["totp_id", ["totp-test-1"]],
        ["totp_verified", false],
        ["oauth_provider", ["google"]],
      ];
      for (const [filter_name, filter_value] of none) {
        expect(await search("AND", [tagged, { filter_name, filter_value }]), filter_name).toEqual([]);
      }
      expect(await search("OR", [{ filter_name: "phone_number", filter_value: ["+12025550162"] }, { filter_name: "user_id", filter_value: [ids.noPassword] }])).toEqual([ids.noPassword]);
    });

    it("an unknown filter name or a value of the wrong type is a 400", async () => {
      const unknown = await stytchErrorOf(client.users.search({ query: { operator: "AND", operands: [{ filter_name: "shoe_size", filter_value: 42 }] } }));
      expect([unknown.status_code, unknown.error_type]).toEqual([400, "bad_request"]);
      const wrongType = await stytchErrorOf(client.users.search({ query: { operator: "AND", operands: [{ filter_name: "password_exists", filter_value: "yes" }] as never } }));
      expect([wrongType.status_code, wrongType.error_type]).toEqual([400, "bad_request"]);
      expect(wrongType.error_message).toMatch(/password_exists/);
    });

    it("is_locked is true (with lock_expires_at) once failed logins lock the email, in users.get and users.search alike", async () => {
      const email = newEmail();
      const created = await client.passwords.create({ email, password: STRONG_PASSWORD });
      expect((await client.users.get({ user_id: created.user_id })).is_locked).toBe(false);
      for (let i = 0; i < server.project.project.settings.rateLimits.loginFailuresPerEmail; i++) {
        expect((await stytchErrorOf(client.passwords.authenticate({ email, password: `${STRONG_PASSWORD}-wrong` }))).error_type).toBe("unauthorized_credentials");
      }
      expect((await stytchErrorOf(client.passwords.authenticate({ email, password: STRONG_PASSWORD }))).error_type).toBe("too_many_requests");
      const got = await client.users.get({ user_id: created.user_id });
      expect(got.is_locked).toBe(true);
      expect(Date.parse(got.lock_expires_at!)).toBeGreaterThan(server.clock.now().getTime());
      const [found] = (await client.users.search({ query: { operator: "AND", operands: [{ filter_name: "user_id", filter_value: [created.user_id] }] } })).results;
      expect(found!.is_locked).toBe(true);
      // another user of the project is not affected
      expect((await client.users.get({ user_id: ids.withPassword })).is_locked).toBe(false);
    });
  });
});
