import { and, asc, count, eq, gt, ilike, inArray, isNotNull, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { DuplicateEmailError, type UserFilter, type UserRepo } from "../domain/ports.js";
import type { Database } from "./db.js";
import { isUniqueViolation, toUser } from "./rows.js";
import { passwords, users } from "./schema.js";

const live = (projectId: string) => and(eq(users.projectId, projectId), isNull(users.deletedAt));
const withPassword = { user: users, password: { passwordId: passwords.passwordId, requiresReset: passwords.requiresReset } };
/** LIKE wildcards in user input are data, not patterns. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** One search filter as SQL over users (joined to passwords). */
function condition(filter: UserFilter): SQL {
  switch (filter.kind) {
    case "emails":
      return inArray(sql`lower(${users.email})`, filter.values.map((e) => e.toLowerCase()));
    case "emailIds":
      return inArray(users.emailId, filter.values);
    case "userIds":
      return inArray(users.userId, filter.values);
    case "emailFuzzy":
      return ilike(users.email, `%${likeEscape(filter.value)}%`);
    case "nameFuzzy":
      return sql`concat_ws(' ', ${users.firstName}, ${users.middleName}, ${users.lastName}) ilike ${`%${likeEscape(filter.value)}%`}`;
    case "emailVerified":
      return and(isNotNull(users.emailId), eq(users.emailVerified, filter.value))!;
    case "passwordExists":
      return filter.value ? isNotNull(passwords.passwordId) : isNull(passwords.passwordId);
    case "status":
      return eq(users.status, filter.value);
    case "createdBetween":
      return and(filter.after ? gt(users.createdAt, filter.after) : undefined, filter.before ? lt(users.createdAt, filter.before) : undefined) ?? sql`true`;
    case "none":
      return sql`false`;
  }
}

export function createUserRepo(db: Database): UserRepo {
  const select = () => db.select(withPassword).from(users).leftJoin(passwords, eq(passwords.userId, users.userId));
  return {
    async create(user, password) {
      try {
        const row = await db.transaction(async (tx) => {
          const [inserted] = await tx.insert(users).values(user).returning();
          if (password) await tx.insert(passwords).values({ userId: user.userId, ...password, createdAt: user.createdAt, updatedAt: user.createdAt });
          return inserted!;
        });
        return toUser(row, password ? { passwordId: password.passwordId, requiresReset: false } : null);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateEmailError();
        throw error;
      }
    },
    async get(projectId, userId) {
      const [row] = await select().where(and(live(projectId), eq(users.userId, userId)));
      return row ? toUser(row.user, row.password) : null;
    },
    async findByEmailForLogin(projectId, email) {
      const [row] = await db
        .select({ ...withPassword, hash: passwords.hash })
        .from(users)
        .leftJoin(passwords, eq(passwords.userId, users.userId))
        .where(and(live(projectId), sql`lower(${users.email}) = lower(${email})`));
      return row ? { user: toUser(row.user, row.password), passwordHash: row.hash } : null;
    },
    async findByEmails(projectId, emails) {
      if (emails.length === 0) return [];
      const rows = await db
        .select({ ...withPassword, hash: passwords.hash })
        .from(users)
        .leftJoin(passwords, eq(passwords.userId, users.userId))
        .where(and(live(projectId), inArray(sql`lower(${users.email})`, emails.map((e) => sql`lower(${e})`))));
      return rows.map((row) => ({ user: toUser(row.user, row.password), passwordHash: row.hash }));
    },
    async createMany(entries) {
      if (entries.length === 0) return [];
      try {
        await db.insert(users).values(entries.map((e) => e.user));
        const withPasswords = entries.filter((e) => e.password);
        if (withPasswords.length) {
          await db.insert(passwords).values(withPasswords.map((e) => ({ userId: e.user.userId, ...e.password!, createdAt: e.user.createdAt, updatedAt: e.user.createdAt })));
        }
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateEmailError();
        throw error;
      }
      return entries.map((e) => toUser({ ...e.user, deletedAt: null }, e.password ? { passwordId: e.password.passwordId, requiresReset: false } : null));
    },
    async update(projectId, userId, patch, now) {
      const [row] = await db.update(users).set({ ...patch, updatedAt: now }).where(and(live(projectId), eq(users.userId, userId))).returning({ userId: users.userId });
      return row ? this.get(projectId, userId) : null;
    },
    async holdLive(projectId, userId) {
      const rows = await db.select({ userId: users.userId }).from(users).where(and(live(projectId), eq(users.userId, userId))).for("share");
      return rows.length > 0;
    },
    async markDeleted(projectId, userId, now) {
      const rows = await db.update(users).set({ status: "deleted", deletedAt: now, updatedAt: now }).where(and(live(projectId), eq(users.userId, userId))).returning({ userId: users.userId });
      return rows.length > 0;
    },
    async setPassword(userId, password, now) {
      await db
        .insert(passwords)
        .values({ userId, ...password, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: passwords.userId, set: { hash: password.hash, requiresReset: false, updatedAt: now } });
    },
    async search(projectId, query) {
      const conditions = query.filters.map(condition);
      const matching = conditions.length === 0 ? undefined : query.operator === "AND" ? and(...conditions) : or(...conditions);
      const where = and(live(projectId), matching);
      const after = query.after;
      const page = after
        ? and(where, or(gt(users.createdAt, after.createdAt), and(eq(users.createdAt, after.createdAt), gt(users.userId, after.userId))))
        : where;
      const rows = await select().where(page).orderBy(asc(users.createdAt), asc(users.userId)).limit(query.limit);
      const [total] = await db.select({ n: count() }).from(users).leftJoin(passwords, eq(passwords.userId, users.userId)).where(where);
      return { users: rows.map((r) => toUser(r.user, r.password)), total: total?.n ?? 0 };
    },
    async findByEmailId(projectId, emailId) {
      const [row] = await select().where(and(live(projectId), eq(users.emailId, emailId)));
      return row ? toUser(row.user, row.password) : null;
    },
    async findByPasswordId(projectId, passwordId) {
      const [row] = await select().where(and(live(projectId), eq(passwords.passwordId, passwordId)));
      return row ? toUser(row.user, row.password) : null;
    },
    async setEmail(projectId, userId, email, now, onlyEmailId) {
      try {
        const rows = await db
          .update(users)
          .set({ email: email?.email ?? null, emailId: email?.emailId ?? null, emailVerified: false, updatedAt: now })
          .where(and(live(projectId), eq(users.userId, userId), onlyEmailId ? eq(users.emailId, onlyEmailId) : undefined))
          .returning({ userId: users.userId });
        return rows.length > 0;
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateEmailError();
        throw error;
      }
    },
    async deletePassword(userId, passwordId) {
      const rows = await db.delete(passwords).where(and(eq(passwords.userId, userId), eq(passwords.passwordId, passwordId))).returning({ userId: passwords.userId });
      return rows.length > 0;
    },
  };
}
