import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/domain/tokens.js";
import { createTestServer, DATABASE_URL, signUp, type TestServer } from "../helpers.js";

/**
 * The exchange's session read is hand-written SQL mapped by column position (session-repo.ts). It must
 * answer exactly what the drizzle-built reads of the same rows answer, on this run's database
 * (PGlite embedded, or Postgres when DATABASE_URL is set): a column out of place shows here.
 */
describe(`session reads (${DATABASE_URL ? "Postgres" : "PGlite"})`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  it("finds session and user by token hash and by id, field for field as the drizzle reads", async () => {
    const login = await signUp(server, undefined, {
      name: { first_name: "Ada", middle_name: "King", last_name: "Lovelace" },
      trusted_metadata: { plan: "pro", seats: 3 },
      untrusted_metadata: { theme: "dark" },
      session_custom_claims: { tenant: "acme", depth: { a: [1, 2] } },
    });
    const projectId = server.project.project.projectId;
    const { store } = server.deps;
    await store.users.update(projectId, login.user_id, { roles: ["editor"], externalId: "ext-42" }, server.clock.now());

    const byHash = await store.sessions.findByTokenHash(projectId, sha256Hex(login.session_token));
    const byId = await store.sessions.findById(projectId, login.session.session_id);
    const [session] = await store.sessions.listLive(projectId, login.user_id, server.clock.now());
    const user = await store.users.get(projectId, login.user_id);

    expect(user).toMatchObject({ firstName: "Ada", middleName: "King", roles: ["editor"], externalId: "ext-42", trustedMetadata: { plan: "pro", seats: 3 } });
    expect(user!.passwordId).toMatch(/^password-/);
    expect(session!.customClaims).toEqual({ tenant: "acme", depth: { a: [1, 2] } });
    expect(byHash).toEqual({ session, user });
    expect(byId).toEqual(byHash);
    expect(byHash!.session.startedAt).toBeInstanceOf(Date);
  });

  it("finds nothing for another project's session or an unknown token", async () => {
    const login = await signUp(server);
    const { store } = server.deps;
    expect(await store.sessions.findByTokenHash("project-test-other", sha256Hex(login.session_token))).toBeNull();
    expect(await store.sessions.findByTokenHash(server.project.project.projectId, sha256Hex("not-a-token"))).toBeNull();
    expect(await store.sessions.findById("project-test-other", login.session.session_id)).toBeNull();
  });

  it("refuses a session find inside a transaction at once (on PGlite it would wait for itself)", async () => {
    const login = await signUp(server);
    const projectId = server.project.project.projectId;
    await expect(server.deps.store.transaction((tx) => tx.sessions.findById(projectId, login.session.session_id))).rejects.toThrow(/outside transactions/);
  });
});
