import type { Clock, Store } from "../domain/ports.js";
import type { RedisStatus } from "../redis/connection.js";

/** Scrape-time readings that need a call; each bounded in time and never failing the scrape. */

/** Projects whose key age a scrape reports: the oldest keys first, which are the ones worth an alert. */
export const KEY_AGE_PROJECT_LIMIT = 100;
const REDIS_PROBE_MS = 1_000;

export function redisState(redis: RedisStatus): () => Promise<"up" | "down" | "in-process"> {
  return async () => {
    if (!redis.configured) return "in-process";
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), REDIS_PROBE_MS);
    });
    try {
      await Promise.race([redis.ping(), timeout]);
      return "up";
    } catch {
      return "down";
    } finally {
      clearTimeout(timer);
    }
  };
}

/** One bounded query (the store's own deadline applies); a database outage reports no ages rather than a failed scrape. */
export function signingKeyAges(deps: { store: Store; clock: Clock }): () => Promise<{ projectId: string; ageSeconds: number }[]> {
  return async () => {
    let rows: { projectId: string; activatedAt: Date }[];
    try {
      rows = await deps.store.signingKeys.currentActivations(KEY_AGE_PROJECT_LIMIT);
    } catch {
      return [];
    }
    const now = deps.clock.now().getTime();
    return rows.map((r) => ({ projectId: r.projectId, ageSeconds: Math.max(0, (now - r.activatedAt.getTime()) / 1000) }));
  };
}
