import { addSeconds } from "./clock.js";
import { CLOCK_SKEW_SECONDS } from "./keys.js";
import type { DomainDeps } from "./ports.js";
import type { Project } from "./types.js";

/** What verifiers learn from the revocation feed. */
export type FeedEvent =
  | { id: number; type: "session.revoked"; sessionId: string; userId: string; at: Date }
  | { id: number; type: "user.changed"; userId: string; notBefore: Date };

const PAGE = 500;

/**
 * Feed events after `afterId`, limited to those a JWT could still be affected by (JWT lifetime plus
 * skew): older revocations concern only tokens that have expired anyway. This window is the deny-list.
 */
export async function feedSince(deps: Pick<DomainDeps, "store" | "clock">, project: Project, afterId: number): Promise<FeedEvent[]> {
  const since = addSeconds(deps.clock.now(), -(project.settings.jwtLifetimeSeconds + CLOCK_SKEW_SECONDS));
  const rows = await deps.store.events.feedSince(project.projectId, afterId, since, PAGE);
  return rows.map((row) =>
    row.type === "session.revoked" && row.sessionId
      ? { id: row.eventId, type: "session.revoked", sessionId: row.sessionId, userId: row.userId, at: row.at }
      : { id: row.eventId, type: "user.changed", userId: row.userId, notBefore: row.at },
  );
}
