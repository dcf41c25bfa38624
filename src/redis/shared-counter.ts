import type { Redis } from "ioredis";
import type { RateLimitRule, RateLimitVerdict } from "../domain/ports.js";

/** How often counts made here are added to the shared count: the bound on overshoot across instances. */
export const SHARE_INTERVAL_MS = 100;

interface Window {
  /** When this window ends, as this instance last learned it. */
  endsAtMs: number;
  /** The count on every instance at the last share. */
  shared: number;
  /** Counted here since the last share. */
  pending: number;
}

/**
 * Fixed-window counters for limits that cap volume rather than pace single attempts: API calls per
 * project secret (10,000 a second by default) and exchanges per session (120 a minute). Lockouts and
 * login limits, where one extra guess matters, stay exact in Redis (rate-limiter.ts). A call is counted
 * in process and the verdict is the last shared total plus what this instance counted since; every
 * SHARE_INTERVAL_MS the counts are added to Redis in one pipelined round trip for all keys. So no
 * request waits on Redis, and N instances together can exceed a limit by what they admit in one
 * interval. While Redis is down the windows run on local counts alone (per-instance limits, never
 * none); without Redis (the embedded default) they are exact.
 */
export function createSharedCounters(redis: Redis | null, now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  let sharing: ReturnType<typeof setTimeout> | null = null;

  const share = async () => {
    sharing = null;
    const batch = [...windows].filter(([, w]) => w.pending > 0);
    if (!redis || batch.length === 0) return;
    const pipeline = redis.pipeline();
    for (const [key, w] of batch) pipeline.tesseraCount(key, w.pending, Math.max(1, w.endsAtMs - now()));
    const sent = batch.map(([, w]) => w.pending);
    const results = await pipeline.exec().catch(() => null);
    const at = now();
    batch.forEach(([key, w], i) => {
      const [error, reply] = results?.[i] ?? [new Error("no reply")];
      if (error || windows.get(key) !== w) return; // kept for the next share, or the window has rolled over
      const [total, ttlMs] = reply as [number, number];
      w.pending -= sent[i]!;
      w.shared = total;
      if (ttlMs > 0) w.endsAtMs = at + ttlMs;
    });
    for (const [key, w] of windows) if (w.endsAtMs <= at && w.pending === 0) windows.delete(key);
  };

  return {
    consume(rule: RateLimitRule, key: string): RateLimitVerdict {
      const id = `tessera:count:${rule.name}:${rule.points}:${rule.durationSeconds}:${key}`;
      const t = now();
      let w = windows.get(id);
      if (!w || w.endsAtMs <= t) windows.set(id, (w = { endsAtMs: t + rule.durationSeconds * 1000, shared: 0, pending: 0 }));
      const consumed = w.shared + w.pending + 1;
      if (consumed > rule.points) return { allowed: false, consumed, retryAfterSeconds: Math.max(1, Math.ceil((w.endsAtMs - t) / 1000)) };
      w.pending += 1;
      if (redis && !sharing) sharing = setTimeout(() => void share(), SHARE_INTERVAL_MS).unref();
      return { allowed: true, consumed };
    },
  };
}

declare module "ioredis" {
  interface ChainableCommander {
    tesseraCount(key: string, increment: number, windowMs: number): ChainableCommander;
  }
}

/** Adds to a key's count, starting its window at the first add; returns the total and the window's remaining ms. */
export function defineSharedCounterCommand(redis: Redis): void {
  redis.defineCommand("tesseraCount", {
    numberOfKeys: 1,
    lua: `local total = redis.call('incrby', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('pexpire', KEYS[1], ARGV[2]) end
return {total, redis.call('pttl', KEYS[1])}`,
  });
}
