import { createHash, randomBytes } from "node:crypto";
import { pino } from "pino";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { startServer } from "../server-process.js";

/**
 * kill -9 in the middle of a burst of every kind of write, three times; then the invariants, in SQL:
 * a state change never exists without the event that announces it, a deleted user has no live
 * session, no session token is stored in clear, and every signing key still opens with the master key.
 */
const ROUNDS = 3;
const WORKERS = 16;

describe.skipIf(!DATABASE_URL || !REDIS_URL)("fault: kill -9 during a burst", () => {
  let environment: TestEnvironment;
  let created: CreatedProject;
  let authorization: string;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL: "http://tessera.test" });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    created = await createProject(deps, { name: "crash", settings: { rateLimits: { loginAttemptsPerIpPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 100_000_000, exchangesPerSessionPerMinute: 1_000_000 } } });
    await deps.close();
    authorization = basicAuth(created.project.projectId, created.secret);
  }, 60_000);

  afterAll(() => environment?.cleanup());

  it("leaves no state change without its event, no token in clear, and keys that decrypt", async () => {
    const tokens: string[] = [];
    const sessions: { id: string; token: string; userId: string }[] = [];
    const users: { id: string; email: string }[] = [];
    let killedMidFlight = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer(environment.env);
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${server.url}${path}`, { method, headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });
        return { status: response.status, body: (await response.json()) as Record<string, any> };
      };
      const remember = (body: Record<string, any>) => {
        if (!body.session_token) return;
        tokens.push(body.session_token);
        sessions.push({ id: body.session.session_id, token: body.session_token, userId: body.user_id ?? body.user.user_id });
      };
      const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
      const signUp = async () => {
        const email = `crash-${randomBytes(5).toString("hex")}@example.com`;
        const { body } = await call("POST", "/v1/passwords", { email, password: STRONG_PASSWORD, session_duration_minutes: 60 });
        if (body.user_id) users.push({ id: body.user_id, email });
        remember(body);
      };
      if (round === 0) await Promise.all(Array.from({ length: 30 }, signUp));
      const revoke = async () => {
        const session = pick(sessions);
        if (session) await call("POST", "/v1/sessions/revoke", { session_id: session.id });
      };
      const extend = async () => {
        const session = pick(sessions);
        if (session) await call("POST", "/v1/sessions/authenticate", { session_token: session.token, session_duration_minutes: 120 });
      };
      // Password work is slow (argon2, capped at 2 at once): the fast writes get more turns.
      const operations = [
        signUp,
        revoke,
        revoke,
        extend,
        extend,
        async () => {
          const user = pick(users);
          if (user) remember((await call("POST", "/v1/passwords/authenticate", { email: user.email, password: STRONG_PASSWORD, session_duration_minutes: 60 })).body);
        },
        async () => {
          const user = pick(users);
          if (user) await call("DELETE", `/v1/users/${user.id}`);
        },
        async () => {
          const user = pick(users);
          if (user) await call("POST", "/v1/sessions/revoke", { user_id: user.id });
        },
        async () => {
          const user = pick(users);
          if (user) await call("PUT", `/v1/users/${user.id}`, { trusted_metadata: { round } });
        },
      ];
      let running = true;
      const burst = Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (running) {
            try {
              await pick(operations)!();
            } catch {
              killedMidFlight++; // the connection died with the server: expected after the kill
            }
          }
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500 + Math.random() * 1_000));
      await server.process.kill();
      running = false;
      await burst;
    }
    console.log(`kill -9 ×${ROUNDS}: ${sessions.length} sessions and ${users.length} users made, ${killedMidFlight} requests cut by the kills`);
    expect(killedMidFlight).toBeGreaterThan(0); // the kills did land mid-burst

    const sql = postgres(environment.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      const count = async (query: Promise<{ n: string }[]>) => Number((await query)[0]!.n);
      expect(await count(sql`select count(*) as n from sessions s where not exists (select 1 from events e where e.session_id = s.session_id and e.type = 'session.created')`), "session without session.created").toBe(0);
      expect(await count(sql`select count(*) as n from sessions s where s.revoked_at is not null and not exists (select 1 from events e where e.session_id = s.session_id and e.type = 'session.revoked')`), "revoked session without session.revoked").toBe(0);
      expect(await count(sql`select count(*) as n from users u where u.status = 'deleted' and not exists (select 1 from events e where e.user_id = u.user_id and e.type = 'user.deleted')`), "deleted user without user.deleted").toBe(0);
      expect(await count(sql`select count(*) as n from sessions s join users u using (user_id) where u.status = 'deleted' and s.revoked_at is null`), "live session of a deleted user").toBe(0);
      expect(await count(sql`select count(*) as n from users u where u.status <> 'deleted' and not exists (select 1 from events e where e.user_id = u.user_id and e.type = 'user.created')`), "user without user.created").toBe(0);
      // Only hashes: every token we were given is found by its SHA-256, and appears nowhere in clear.
      const hashes = tokens.map((t) => createHash("sha256").update(t).digest("hex"));
      expect(await count(sql`select count(*) as n from sessions where token_hash = any(${hashes})`)).toBe(tokens.length);
      for (const token of tokens.slice(0, 50)) {
        const pattern = `%${token}%`;
        expect(await count(sql`select count(*) as n from (select sessions::text as t from sessions union all select events::text from events union all select users::text from users) rows where t like ${pattern}`)).toBe(0);
      }
    } finally {
      await sql.end();
    }
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    try {
      const envelopes = await deps.store.signingKeys.listEnvelopes();
      expect(envelopes.length).toBeGreaterThan(0);
      for (const { kid, privateKeyEncrypted } of envelopes) expect(JSON.parse(deps.vault.decrypt(privateKeyEncrypted, kid)).d).toBeTypeOf("string");
    } finally {
      await deps.close();
    }
  });
});
