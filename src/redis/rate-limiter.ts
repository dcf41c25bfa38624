import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimiter, RateLimitRule } from "../domain/ports.js";
import { createSharedCounters, defineSharedCounterCommand } from "./shared-counter.js";

const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * rate-limiter-flexible behind the RateLimiter port. With Redis, every limiter has an in-memory
 * insurance limiter: while Redis is down, limits fall back to per-process counters, never to none.
 * Without Redis (the embedded default), the in-memory limiters are the twin.
 */
export function createRateLimiter(redis: Redis | null): RateLimiter {
  // One limiter object per (rule, points, duration); owned by this instance, not the module.
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (rule: RateLimitRule): RateLimiterAbstract => {
    const id = `${rule.name}:${rule.points}:${rule.durationSeconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      const options = { keyPrefix: `tessera:rl:${id}`, points: rule.points, duration: rule.durationSeconds };
      limiter = redis
        ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options);
      limiters.set(id, limiter);
    }
    return limiter;
  };

  if (redis) defineSharedCounterCommand(redis);
  const shared = createSharedCounters(redis);

  return {
    consumeShared: (rule, key) => shared.consume(rule, key),
    async consume(rule, key) {
      try {
        const res = await limiterFor(rule).consume(key);
        return { allowed: true, consumed: res.consumedPoints };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return { allowed: false, consumed: rejection.consumedPoints, retryAfterSeconds: retryAfter(rejection) };
        throw rejection;
      }
    },
    async refund(rule, key) {
      await limiterFor(rule).reward(key, 1);
    },
    async blockedFor(rule, key) {
      const state = await limiterFor(rule).get(key);
      return state && state.consumedPoints > rule.points ? retryAfter(state) : 0;
    },
    async block(rule, key, seconds) {
      await limiterFor(rule).block(key, seconds);
    },
    async reset(rule, key) {
      await limiterFor(rule).delete(key);
    },
  };
}
