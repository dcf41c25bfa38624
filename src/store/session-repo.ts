import { and, asc, eq, getTableColumns, gt, isNull, ne, type Table } from "drizzle-orm";
import type { SessionRepo, SessionWithUser } from "../domain/ports.js";
import type { Database, RowQuery } from "./db.js";
import { toSession, toUser } from "./rows.js";
import { sessions, users } from "./schema.js";

/** A table's columns, quoted for SQL under `alias`, with the row keys they fill, in schema order. */
function columnsOf(table: Table, alias: string) {
  return Object.entries(getTableColumns(table)).map(([key, column]) => ({ key, sql: `${alias}."${column.name}"` }));
}
const sessionColumns = columnsOf(sessions, "s");
const userColumns = columnsOf(users, "u");
/**
 * The exchange's read by hand, not through drizzle's query builder: drizzle's per-call work and row
 * mapping (prototype walks per column) took a twentieth of the exchange's CPU (README, Performance).
 * The select list comes from the schema, so a new column cannot be forgotten here.
 */
const SESSION_WITH_USER = `select ${[...sessionColumns, ...userColumns].map((c) => c.sql).join(", ")}, p.password_id, p.requires_reset
  from sessions s join users u on u.user_id = s.user_id left join passwords p on p.user_id = u.user_id
  where s.project_id = $1 and `;
const BY_TOKEN_HASH = `${SESSION_WITH_USER}s.token_hash = $2`;
const BY_ID = `${SESSION_WITH_USER}s.session_id = $2`;

function rowOf<T>(columns: readonly { key: string }[], values: readonly unknown[], offset: number): T {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!.key] = values[offset + i];
  return row as T;
}

function toPair(values: unknown[] | undefined): SessionWithUser | null {
  if (!values) return null;
  const session = rowOf<typeof sessions.$inferSelect>(sessionColumns, values, 0);
  const user = rowOf<typeof users.$inferSelect>(userColumns, values, sessionColumns.length);
  const at = sessionColumns.length + userColumns.length;
  const password = values[at] === null ? null : { passwordId: values[at] as string, requiresReset: values[at + 1] as boolean };
  return { session: toSession(session), user: toUser(user, password) };
}

/** `reads` answers the two finds, on the session-read pool (db.ts). */
export function createSessionRepo(db: Database, reads: RowQuery): SessionRepo {
  return {
    async create(session) {
      await db.insert(sessions).values(session);
    },
    findByTokenHash: async (projectId, tokenHash) => toPair((await reads(BY_TOKEN_HASH, [projectId, tokenHash]))[0]),
    findById: async (projectId, sessionId) => toPair((await reads(BY_ID, [projectId, sessionId]))[0]),
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
