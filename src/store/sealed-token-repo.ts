import { and, asc, eq, gt, isNotNull } from "drizzle-orm";
import type { SealedTokenRepo } from "../domain/ports.js";
import type { Database } from "./db.js";
import { sessions } from "./schema.js";

export function createSealedTokenRepo(db: Database): SealedTokenRepo {
  return {
    async page(afterSessionId, limit) {
      const rows = await db
        .select({ sessionId: sessions.sessionId, tokenSealed: sessions.tokenSealed })
        .from(sessions)
        .where(and(isNotNull(sessions.tokenSealed), gt(sessions.sessionId, afterSessionId)))
        .orderBy(asc(sessions.sessionId))
        .limit(limit);
      return rows.map((r) => ({ sessionId: r.sessionId, tokenSealed: r.tokenSealed! }));
    },
    async replace(sessionId, tokenSealed) {
      await db.update(sessions).set({ tokenSealed }).where(eq(sessions.sessionId, sessionId));
    },
  };
}
