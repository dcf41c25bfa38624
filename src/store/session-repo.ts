import { and, asc, eq, gt, isNull, ne, sql } from "drizzle-orm";
import type { SessionRepo } from "../domain/ports.js";
import type { Database } from "./db.js";
import { toSession, toUser } from "./rows.js";
import { passwords, sessions, users } from "./schema.js";

export function createSessionRepo(db: Database, reads: Database = db): SessionRepo {
  const withUser = () =>
    reads
      .select({ session: sessions, user: users, password: { passwordId: passwords.passwordId, requiresReset: passwords.requiresReset } })
      .from(sessions)
      .innerJoin(users, eq(users.userId, sessions.userId))
      .leftJoin(passwords, eq(passwords.userId, users.userId));
  type Row = Awaited<ReturnType<ReturnType<typeof withUser>["execute"]>>[number];
  const toPair = (row: Row | undefined) => (row ? { session: toSession(row.session), user: toUser(row.user, row.password) } : null);
  // The exchange's reads, built once and prepared on each connection (Postgres parses and plans them
  // once, and drizzle does not rebuild the SQL at every call). Made on first use, so a repo bound to
  // a transaction that never reads a session prepares nothing.
  let byTokenHash: ReturnType<typeof prepareBy> | undefined;
  let byId: ReturnType<typeof prepareBy> | undefined;
  const prepareBy = (column: typeof sessions.tokenHash | typeof sessions.sessionId, name: string) =>
    withUser()
      .where(and(eq(column, sql.placeholder("value")), eq(sessions.projectId, sql.placeholder("projectId"))))
      .prepare(name);

  return {
    async create(session) {
      await db.insert(sessions).values(session);
    },
    async findByTokenHash(projectId, tokenHash) {
      byTokenHash ??= prepareBy(sessions.tokenHash, "tessera_session_by_token_hash");
      const [row] = await byTokenHash.execute({ value: tokenHash, projectId });
      return toPair(row);
    },
    async findById(projectId, sessionId) {
      byId ??= prepareBy(sessions.sessionId, "tessera_session_by_id");
      const [row] = await byId.execute({ value: sessionId, projectId });
      return toPair(row);
    },
    async update(sessionId, patch) {
      await db.update(sessions).set(patch).where(eq(sessions.sessionId, sessionId));
    },
    async revoke(projectId, sessionId, reason, now) {
      const rows = await db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(and(eq(sessions.sessionId, sessionId), eq(sessions.projectId, projectId), isNull(sessions.revokedAt)))
        .returning({ sessionId: sessions.sessionId });
      return rows.length > 0;
    },
    async revokeAllForUser(projectId, userId, reason, now, exceptSessionId) {
      const rows = await db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: reason })
        .where(
          and(
            eq(sessions.projectId, projectId),
            eq(sessions.userId, userId),
            isNull(sessions.revokedAt),
            exceptSessionId ? ne(sessions.sessionId, exceptSessionId) : undefined,
          ),
        )
        .returning({ sessionId: sessions.sessionId });
      return rows.map((r) => r.sessionId);
    },
    async listLive(projectId, userId, now) {
      const rows = await db
        .select()
        .from(sessions)
        .where(and(eq(sessions.projectId, projectId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
        .orderBy(asc(sessions.startedAt));
      return rows.map(toSession);
    },
  };
}
