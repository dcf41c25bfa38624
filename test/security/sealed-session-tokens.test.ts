import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { masterKeyId } from "../../src/crypto/vault.js";
import { createDeps } from "../../src/deps.js";
import { createProject } from "../../src/domain/projects.js";
import { createApp } from "../../src/http/app.js";
import { createLocalManagement } from "../../src/management/local.js";
import { sha256Hex } from "../../src/domain/tokens.js";
import { basicAuth, createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";

/** What the database holds of a session token, and what a JWT-authenticated exchange can give back. */
describe("sealed session tokens", () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  let environment: TestEnvironment;
  const open = (keys: Buffer[]) =>
    createDeps(loadConfig({ ...environment.env, TESSERA_MASTER_KEY: "", TESSERA_MASTER_KEYS: keys.map((k) => k.toString("base64")).join(",") }), { logger: pino({ level: "silent" }) });
  type Deps = Awaited<ReturnType<typeof open>>;
  const rows = async (deps: Deps) => {
    const result = await deps.database.db.execute(sql`select session_id, token_hash, token_sealed from sessions order by started_at`);
    return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { session_id: string; token_hash: string; token_sealed: string | null }[];
  };
  let projectId: string;
  let auth: string;
  const call = async (deps: Deps, path: string, body: unknown) => {
    const response = await createApp(deps).request(path, { method: "POST", headers: { authorization: auth, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    environment = await createTestEnvironment();
    const deps = await open([keyA]);
    const created = await createProject(deps, { name: "sealed" });
    projectId = created.project.projectId;
    auth = basicAuth(projectId, created.secret);
    await deps.close();
  });
  afterAll(() => environment.cleanup());

  it("stores the token's hash and an envelope bound to the session id, never the token", async () => {
    const deps = await open([keyA]);
    try {
      const a = await call(deps, "/v1/passwords", { email: "a@sealed.example", password: STRONG_PASSWORD, session_duration_minutes: 60 });
      const b = await call(deps, "/v1/passwords", { email: "b@sealed.example", password: STRONG_PASSWORD, session_duration_minutes: 60 });
      const [rowA, rowB] = await rows(deps);
      expect(rowA!.token_hash).toBe(sha256Hex(a.body.session_token));
      expect(rowA!.token_sealed).toMatch(new RegExp(`^v1\\.${masterKeyId(keyA)}\\.`));
      expect(JSON.stringify(await rows(deps))).not.toContain(a.body.session_token);

      // An envelope copied onto another session's row does not open there: that exchange answers "" instead.
      await deps.database.db.execute(sql`update sessions set token_sealed = ${rowA!.token_sealed} where session_id = ${rowB!.session_id}`);
      const byJwt = await call(deps, "/v1/sessions/authenticate", { session_jwt: b.body.session_jwt });
      expect(byJwt.status).toBe(200);
      expect(byJwt.body.session_token).toBe("");
      expect(byJwt.body.session_token).not.toBe(a.body.session_token);
    } finally {
      await deps.close();
    }
  });

  it("a session made before migration 0006 (no envelope) still exchanges by JWT, with an empty session_token", async () => {
    const deps = await open([keyA]);
    try {
      const c = await call(deps, "/v1/passwords", { email: "c@sealed.example", password: STRONG_PASSWORD, session_duration_minutes: 60 });
      await deps.database.db.execute(sql`update sessions set token_sealed = null where token_hash = ${sha256Hex(c.body.session_token)}`);
      const byJwt = await call(deps, "/v1/sessions/authenticate", { session_jwt: c.body.session_jwt });
      expect(byJwt.status).toBe(200);
      expect(byJwt.body.session.session_id).toBe(c.body.session.session_id);
      expect(byJwt.body.session_token).toBe("");
      expect((await call(deps, "/v1/sessions/authenticate", { session_token: c.body.session_token })).body.session_token).toBe(c.body.session_token);
    } finally {
      await deps.close();
    }
  });

  it("keys reencrypt re-seals the session tokens too, so the old master key can go", async () => {
    let jwt: string;
    let token: string;
    const both = await open([keyB, keyA]);
    try {
      const d = await call(both, "/v1/passwords", { email: "d@sealed.example", password: STRONG_PASSWORD, session_duration_minutes: 60 });
      ({ session_jwt: jwt, session_token: token } = d.body as { session_jwt: string; session_token: string });
      const result = await createLocalManagement(both, "test").reencryptKeys();
      expect(result.reencrypted).toBe(1);
      // rows: a (resealed), b (a's envelope, copied in the first test: does not open), c (none), d (resealed)
      expect(result).toMatchObject({ session_tokens: 2, session_tokens_unreadable: 1 });
      const sealed = (await rows(both)).filter((r) => r.token_sealed);
      expect(sealed.filter((r) => r.token_sealed!.startsWith(`v1.${masterKeyId(keyB)}.`))).toHaveLength(2);
    } finally {
      await both.close();
    }
    const onlyB = await open([keyB]);
    try {
      expect((await call(onlyB, "/v1/sessions/authenticate", { session_jwt: jwt })).body.session_token).toBe(token);
    } finally {
      await onlyB.close();
    }
  });
});
