import { and, asc, eq } from "drizzle-orm";
import type { TrustedTokenProfileRepo } from "../domain/ports.js";
import type { TrustedTokenProfile } from "../domain/types.js";
import type { Database } from "./db.js";
import { trustedTokenProfiles } from "./schema.js";

const toProfile = (row: typeof trustedTokenProfiles.$inferSelect): TrustedTokenProfile => ({ ...row, attributeMapping: row.attributeMapping });

export function createTrustedTokenProfileRepo(db: Database): TrustedTokenProfileRepo {
  const own = (projectId: string, profileId: string) => and(eq(trustedTokenProfiles.projectId, projectId), eq(trustedTokenProfiles.profileId, profileId));
  return {
    async create(profile) {
      await db.insert(trustedTokenProfiles).values(profile);
    },
    async get(projectId, profileId) {
      const [row] = await db.select().from(trustedTokenProfiles).where(own(projectId, profileId));
      return row ? toProfile(row) : null;
    },
    async list(projectId) {
      const rows = await db.select().from(trustedTokenProfiles).where(eq(trustedTokenProfiles.projectId, projectId)).orderBy(asc(trustedTokenProfiles.createdAt), asc(trustedTokenProfiles.profileId));
      return rows.map(toProfile);
    },
    async delete(projectId, profileId) {
      const rows = await db.delete(trustedTokenProfiles).where(own(projectId, profileId)).returning({ profileId: trustedTokenProfiles.profileId });
      return rows.length > 0;
    },
  };
}
