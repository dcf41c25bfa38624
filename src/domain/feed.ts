import { addSeconds } from "./clock.js";
import { CLOCK_SKEW_SECONDS } from "./keys.js";
import type { DomainDeps, FeedCursor } from "./ports.js";
import type { Project } from "./types.js";

/** What verifiers learn from the revocation feed. `id` is the resumable cursor (SSE `id`, Last-Event-ID). */
export type FeedEvent =
  | { id: string; type: "session.revoked"; sessionId: string; userId: string; at: Date }
  | { id: string; type: "user.changed"; userId: string; notBefore: Date };

export interface FeedBatch {
  events: FeedEvent[];
  /** Where the next read starts: the last event's cursor, or `after` when there was none. */
  cursor: FeedCursor | null;
  /** More events are committed but wait behind an older open transaction: read again soon. */
  pending: boolean;
}

const PAGE = 500;

export const formatCursor = (cursor: FeedCursor): string => `${cursor.txId}-${cursor.eventId}`;

/** A Last-Event-ID we issued, or null (absent, foreign or from an older version: replay the window). */
export function parseCursor(text: string | undefined): FeedCursor | null {
  const match = /^(\d{1,20})-(\d{1,16})$/.exec(text ?? "");
  if (!match) return null;
  const eventId = Number(match[2]);
  return Number.isSafeInteger(eventId) ? { txId: match[1]!, eventId } : null;
}

/**
 * Feed events after `after`, limited to those a JWT could still be affected by (JWT lifetime plus
 * skew): older revocations concern only tokens that have expired anyway. This window is the deny-list.
 */
export async function feedSince(deps: Pick<DomainDeps, "store" | "clock">, project: Project, after: FeedCursor | null): Promise<FeedBatch> {
  const since = addSeconds(deps.clock.now(), -(project.settings.jwtLifetimeSeconds + CLOCK_SKEW_SECONDS));
  const page = await deps.store.events.feedSince(project.projectId, after, since, PAGE);
  const events = page.rows.map((row): FeedEvent => {
    const id = formatCursor(row.cursor);
    return row.type === "session.revoked" && row.sessionId
      ? { id, type: "session.revoked", sessionId: row.sessionId, userId: row.userId, at: row.at }
      : { id, type: "user.changed", userId: row.userId, notBefore: row.at };
  });
  return { events, cursor: page.rows.at(-1)?.cursor ?? after, pending: page.pending };
}
