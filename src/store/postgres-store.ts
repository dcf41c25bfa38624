import { and, count, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Clock, FeedRow, ProjectRepo, SigningKeyRepo, Store } from "../domain/ports.js";
import type { AuditEvent } from "../domain/types.js";
import { pingDatabase, type Database, type RowQuery } from "./db.js";
import { toProject, toSigningKey } from "./rows.js";
import { events, projects, projectSecrets, publicTokens, signingKeys } from "./schema.js";
import { createSealedTokenRepo } from "./sealed-token-repo.js";
import { createSessionRepo } from "./session-repo.js";
import { createTrustedTokenProfileRepo } from "./trusted-token-profile-repo.js";
import { createUserRepo } from "./user-repo.js";

/** Records secret use at most once a minute, so authenticating a request rarely writes. */
const SECRET_TOUCH_INTERVAL_MS = 60_000;

function createProjectRepo(db: Database): ProjectRepo {
  return {
    async create(input) {
      const [row] = await db.insert(projects).values(input).returning();
      return toProject(row!);
    },
    async get(projectId) {
      const [row] = await db.select().from(projects).where(eq(projects.projectId, projectId));
      return row ? toProject(row) : null;
    },
    async update(projectId, input, now) {
      const [row] = await db.update(projects).set({ ...input, updatedAt: now }).where(eq(projects.projectId, projectId)).returning();
      return row ? toProject(row) : null;
    },
    async setRbacPolicy(projectId, policy, now) {
      const rows = await db.update(projects).set({ rbacPolicy: policy, updatedAt: now }).where(eq(projects.projectId, projectId)).returning({ projectId: projects.projectId });
      return rows.length > 0;
    },
    async list() {
      return (await db.select().from(projects).orderBy(projects.createdAt)).map(toProject);
    },
    async count() {
      const [row] = await db.select({ n: count() }).from(projects);
      return row?.n ?? 0;
    },
    async addSecret(input) {
      await db.insert(projectSecrets).values(input);
    },
    async liveSecrets(projectId) {
      return db
        .select({ secretId: projectSecrets.secretId, secretHash: projectSecrets.secretHash, lastUsedAt: projectSecrets.lastUsedAt })
        .from(projectSecrets)
        .where(and(eq(projectSecrets.projectId, projectId), isNull(projectSecrets.revokedAt)));
    },
    async touchSecret(secretId, now) {
      const due = new Date(now.getTime() - SECRET_TOUCH_INTERVAL_MS);
      await db
        .update(projectSecrets)
        .set({ lastUsedAt: now })
        .where(and(eq(projectSecrets.secretId, secretId), or(isNull(projectSecrets.lastUsedAt), lt(projectSecrets.lastUsedAt, due))));
    },
    async revokeSecret(projectId, secretId, now) {
      const rows = await db
        .update(projectSecrets)
        .set({ revokedAt: now })
        .where(and(eq(projectSecrets.projectId, projectId), eq(projectSecrets.secretId, secretId), isNull(projectSecrets.revokedAt)))
        .returning({ secretId: projectSecrets.secretId });
      return rows.length > 0;
    },
    async addPublicToken(input) {
      await db.insert(publicTokens).values(input);
    },
    async byPublicToken(publicToken) {
      const [row] = await db
        .select({ project: projects })
        .from(publicTokens)
        .innerJoin(projects, eq(projects.projectId, publicTokens.projectId))
        .where(and(eq(publicTokens.publicToken, publicToken), isNull(publicTokens.revokedAt)));
      return row ? toProject(row.project) : null;
    },
  };
}

function createSigningKeyRepo(db: Database): SigningKeyRepo {
  return {
    async insert(key) {
      await db.insert(signingKeys).values(key);
    },
    async listPublished(projectId) {
      const rows = await db
        .select()
        .from(signingKeys)
        .where(and(eq(signingKeys.projectId, projectId), inArray(signingKeys.state, ["next", "current", "previous"])))
        .orderBy(signingKeys.createdAt);
      return rows.map(toSigningKey);
    },
    async listAll(projectId) {
      const rows = await db.select().from(signingKeys).where(eq(signingKeys.projectId, projectId)).orderBy(signingKeys.createdAt);
      return rows.map(toSigningKey);
    },
    async transition(kid, from, to, at) {
      const stamp = to === "current" ? { activatedAt: at } : to === "previous" ? { deactivatedAt: at } : to === "retired" ? { retiredAt: at } : {};
      const rows = await db
        .update(signingKeys)
        .set({ state: to, ...stamp })
        .where(and(eq(signingKeys.kid, kid), eq(signingKeys.state, from)))
        .returning({ kid: signingKeys.kid });
      return rows.length > 0;
    },
    async setActivateAt(kid, activateAt) {
      await db.update(signingKeys).set({ activateAt }).where(eq(signingKeys.kid, kid));
    },
    async listEnvelopes() {
      return db.select({ kid: signingKeys.kid, privateKeyEncrypted: signingKeys.privateKeyEncrypted }).from(signingKeys);
    },
    async updateEnvelope(kid, privateKeyEncrypted) {
      await db.update(signingKeys).set({ privateKeyEncrypted }).where(eq(signingKeys.kid, kid));
    },
    async newestCurrent() {
      const [row] = await db.select().from(signingKeys).where(eq(signingKeys.state, "current")).orderBy(desc(signingKeys.createdAt)).limit(1);
      return row ? toSigningKey(row) : null;
    },
    async currentActivations(limit) {
      const rows = await db
        .select({ projectId: signingKeys.projectId, activatedAt: signingKeys.activatedAt })
        .from(signingKeys)
        .where(eq(signingKeys.state, "current"))
        .orderBy(signingKeys.activatedAt)
        .limit(limit);
      return rows.flatMap((r) => (r.activatedAt ? [{ projectId: r.projectId, activatedAt: r.activatedAt }] : []));
    },
  };
}

/** Raw `execute` results: postgres.js returns the rows, PGlite an object holding them. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}

/**
 * A transaction's store has no session finds: they read on their own pool (session-repo.ts), which
 * would not see the transaction's writes, and which on PGlite's one connection would wait for the
 * transaction to end: a deadlock. No caller needs one; this makes a new one fail at once.
 */
const outsideTransactionsOnly: RowQuery = () => Promise.reject(new Error("session finds run outside transactions (store/session-repo.ts)"));

/**
 * The one Store implementation, over drizzle: real Postgres in production, PGlite embedded.
 * `sessionReads` serves the exchange's session lookups (db.ts, session-repo.ts).
 */
export function createPostgresStore(db: Database, clock: Clock, sessionReads: RowQuery): Store {
  return {
    projects: createProjectRepo(db),
    users: createUserRepo(db),
    sessions: createSessionRepo(db, sessionReads),
    sealedTokens: createSealedTokenRepo(db),
    trustedTokenProfiles: createTrustedTokenProfileRepo(db),
    signingKeys: createSigningKeyRepo(db),
    events: {
      async record(event) {
        await db.insert(events).values({ ...event, details: event.details ?? {}, createdAt: clock.now() });
      },
      async list(projectId, filter) {
        const rows = await db
          .select()
          .from(events)
          .where(and(eq(events.projectId, projectId), filter.userId ? eq(events.userId, filter.userId) : undefined))
          .orderBy(desc(events.eventId))
          .limit(filter.limit);
        return rows.map((r) => ({ ...r, type: r.type as AuditEvent["type"], at: r.createdAt }));
      },
      async recordMany(list) {
        if (list.length === 0) return;
        const at = clock.now();
        await db.insert(events).values(list.map((event) => ({ ...event, details: event.details ?? {}, createdAt: at })));
      },
      async feedSince(projectId, after, since, limit) {
        // One statement, one snapshot: `settled` rows belong to transactions older than every open one
        // (the snapshot's xmin), so nothing can commit before them any more.
        const position = after ? sql`and (${events.txId}, ${events.eventId}) > (${after.txId}::xid8, ${after.eventId})` : sql``;
        const result = await db.execute(sql`
          select ${events.eventId} as event_id, ${events.txId}::text as tx_id, ${events.type} as type, ${events.userId} as user_id,
                 ${events.sessionId} as session_id, (extract(epoch from ${events.createdAt}) * 1000)::float8 as at_ms,
                 ${events.txId} < pg_snapshot_xmin(pg_current_snapshot()) as settled
          from ${events}
          where ${events.projectId} = ${projectId} and ${events.type} in ('session.revoked', 'user.updated')
            and ${events.createdAt} > ${since.toISOString()}::timestamptz ${position}
          order by ${events.txId}, ${events.eventId}
          limit ${limit}`);
        // Both event types always name a user (the domain writes them so).
        const raw = rowsOf<{ event_id: number | string; tx_id: string; type: FeedRow["type"]; user_id: string; session_id: string | null; at_ms: number | string; settled: boolean }>(result);
        const settled = raw.filter((r) => r.settled);
        return {
          rows: settled.map((r) => ({ cursor: { txId: r.tx_id, eventId: Number(r.event_id) }, type: r.type, userId: r.user_id, sessionId: r.session_id, at: new Date(Math.round(Number(r.at_ms))) })),
          pending: settled.length < raw.length,
        };
      },
    },
    transaction: (work) => db.transaction((tx) => work(createPostgresStore(tx as unknown as Database, clock, outsideTransactionsOnly))),
    withAdvisoryLock: (lockId, work) =>
      db.transaction(async (tx) => {
        // Transaction-scoped: released at commit or rollback, even if this process dies mid-way.
        const rows = rowsOf<{ locked: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${lockId}) as locked`));
        if (!rows[0]?.locked) return null;
        return { value: await work(createPostgresStore(tx as unknown as Database, clock, outsideTransactionsOnly)) };
      }),
    ping: () => pingDatabase(db),
  };
}
