import { pino } from "pino";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps, type Deps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createSession, passwordFactor } from "../../src/domain/sessions.js";
import { createUser } from "../../src/domain/users.js";
import type { User } from "../../src/domain/types.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { startServer } from "../server-process.js";
import { sseReader } from "../sse-reader.js";

/**
 * The feed's central promise under the load that broke it: revocations, user deletions and password
 * resets committed in parallel on two instances, in whatever order their transactions commit. Every
 * live subscriber, and one that reconnects mid-burst with Last-Event-ID, must see every revoked session.
 */
const SINGLE_USERS = 100; // 3 sessions each, revoked one at a time
const DELETED_USERS = 24; // 10 sessions each, revoked by deleting the user
const RESET_USERS = 24; // 10 sessions each, revoked by a password reset
const IN_FLIGHT = 32;

interface Subscriber {
  seen: Set<string>;
  lastId: string;
  /** Every event id in the order it arrived, to say where a missing event was when the test fails. */
  ids: string[];
  ready: Promise<void>;
  close(): Promise<void>;
}

describe.skipIf(!DATABASE_URL || !REDIS_URL)("revocation feed completeness under concurrency (two instances, real Postgres and Redis)", () => {
  let environment: TestEnvironment;
  let deps: Deps;
  let created: CreatedProject;
  let instances: Awaited<ReturnType<typeof startServer>>[] = [];
  let authorization: string;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL: "http://tessera.test" });
    deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    created = await createProject(deps, { name: "feed", settings: { rateLimits: { loginAttemptsPerIpPerMinute: 100_000, apiCallsPerSecretPerMinute: 1_000_000 } } });
    authorization = basicAuth(created.project.projectId, created.secret);
    instances = await Promise.all([startServer(environment.env), startServer(environment.env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.process.stop()));
    await deps?.close();
    await environment?.cleanup();
  });

  const subscribe = async (url: string, lastEventId = ""): Promise<Subscriber> => {
    const response = await fetch(`${url}/v1/sessions/revocations/stream`, { headers: { authorization, ...(lastEventId ? { "last-event-id": lastEventId } : {}) } });
    expect(response.status).toBe(200);
    const reader = sseReader(response);
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const subscriber: Subscriber = { seen: new Set<string>(), lastId: lastEventId, ids: [], ready, close: () => reader.close() };
    void (async () => {
      for (;;) {
        const message = await reader.next(60_000).catch(() => null);
        if (!message) return;
        if (message.event === "ready") markReady();
        if (message.event === "session.revoked") subscriber.seen.add(JSON.parse(message.data).session_id);
        if (message.id) {
          subscriber.lastId = message.id;
          subscriber.ids.push(message.id);
        }
      }
    })();
    return subscriber;
  };

  it("every subscriber on either instance sees every committed revocation, whatever the commit order", async () => {
    const passwordHash = await deps.hasher.hash(STRONG_PASSWORD);
    const project = created.project;
    const seedUser = async (sessions: number): Promise<User & { sessionIds: string[] }> => {
      const user = await createUser(deps, project, { email: `u-${Math.random().toString(36).slice(2)}@example.com`, passwordHash });
      const sessionIds: string[] = [];
      for (let i = 0; i < sessions; i++) {
        const issued = await createSession(deps, project, user, { durationMinutes: 60, factor: passwordFactor(deps.clock.now(), user), context: {} });
        sessionIds.push(issued.session.sessionId);
      }
      return { ...user, sessionIds };
    };
    const seedAll = async (count: number, sessions: number) => {
      const users: Awaited<ReturnType<typeof seedUser>>[] = [];
      for (let i = 0; i < count; i += 8) users.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => seedUser(sessions)))));
      return users;
    };
    const singles = await seedAll(SINGLE_USERS, 3);
    const deleted = await seedAll(DELETED_USERS, 10);
    const reset = await seedAll(RESET_USERS, 10);

    const subscribers = await Promise.all(instances.flatMap((instance) => [subscribe(instance.url), subscribe(instance.url)]));
    await Promise.all(subscribers.map((s) => s.ready));

    // Work of every kind, interleaved, sent to both instances.
    const call = (i: number, method: string, path: string, body?: unknown) =>
      fetch(`${instances[i % 2]!.url}${path}`, { method, headers: { authorization, ...(body ? { "content-type": "application/json" } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const jobs: (() => Promise<Response>)[] = [
      ...singles.flatMap((u) => u.sessionIds.map((id) => (i: number) => call(i, "POST", "/v1/sessions/revoke", { session_id: id }))),
      ...deleted.map((u) => (i: number) => call(i, "DELETE", `/v1/users/${u.userId}`)),
      ...reset.map((u) => (i: number) => call(i, "POST", "/v1/passwords/existing_password/reset", { email: u.email, existing_password: STRONG_PASSWORD, new_password: "Orbit-lantern-72-quietly!" })),
    ]
      .sort(() => Math.random() - 0.5)
      .map((job, i) => () => job(i));

    let resumed: Subscriber | null = null;
    const dropped = subscribers[3]!; // this one disconnects mid-burst and resumes from its last event id
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < jobs.length) {
          const index = next++;
          if (index === Math.floor(jobs.length / 2) && !resumed) {
            await dropped.close();
            resumed = await subscribe(instances[0]!.url, dropped.lastId);
          }
          const response = await jobs[index]!();
          if (response.status === 200) await response.body?.cancel();
          else failures.push(`${response.status} ${await response.text()}`);
        }
      }),
    );
    expect(failures).toEqual([]);

    const sql = postgres(environment.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const revoked = new Set((await sql<{ session_id: string }[]>`select session_id from sessions where revoked_at is not null`).map((r) => r.session_id));
    await sql.end();
    expect(revoked.size).toBe(SINGLE_USERS * 3 + DELETED_USERS * 10 + RESET_USERS * 10);

    // The resumed subscriber counts what it saw before dropping plus what it got after resuming, both
    // read at each look: events still arriving after the last response count (a copy taken once did not).
    const live = subscribers.slice(0, 3);
    const seenBy = (index: number, id: string) => (index < 3 ? live[index]!.seen.has(id) : dropped.seen.has(id) || resumed!.seen.has(id));
    const missing = () => [0, 1, 2, 3].map((index) => [...revoked].filter((id) => !seenBy(index, id)));
    const started = performance.now();
    while (missing().some((ids) => ids.length > 0) && performance.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    console.log(`feed: missing per subscriber ${JSON.stringify(missing().map((ids) => ids.length))} of ${revoked.size}; all delivered ${Math.round(performance.now() - started)} ms after the last response`);
    const lost = missing().flat();
    if (lost.length > 0) {
      const where = postgres(environment.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      const rows = await where<{ cursor: string }[]>`select tx_id::text || '-' || event_id as cursor from events where session_id in ${where(lost)} and type = 'session.revoked' order by tx_id, event_id`;
      await where.end();
      console.log(`feed: ${rows.length} missing, first cursors ${rows.slice(0, 10).map((r) => r.cursor).join(" ")}; dropped resumed after ${dropped.lastId}, its last ids ${dropped.ids.slice(-3).join(" ")}; resumed got ${resumed!.ids.length} ids, from ${resumed!.ids.slice(0, 3).join(" ")} to ${resumed!.ids.slice(-3).join(" ")}`);
    }
    expect(missing()).toEqual([[], [], [], []]);
    await Promise.all([...subscribers.slice(0, 3), resumed!].map((s) => s.close()));
  }, 120_000);
});
