import { Redis } from "ioredis";

/** Redis as /readyz sees it; later Redis-backed ports (rate limits, revocations) share the connection. */
export interface RedisStatus {
  /** False on the embedded default: in-process twins stand in for Redis. */
  readonly configured: boolean;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const REDIS_COMMAND_TIMEOUT_MS = 500;

export function connectRedis(url: string): RedisStatus & { client: Redis } {
  const client = new Redis(url, {
    lazyConnect: false,
    // Fail fast while Redis is down, so callers fall back instead of queueing behind a dead connection.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A stalled Redis (not down: paused, partitioned) must not hold requests: a command that has no
    // answer in time fails, and the rate limiters fall back to their in-memory insurance.
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS * 2,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  // ioredis emits 'error' on every failed reconnect; the fallbacks handle it, /readyz reports it.
  client.on("error", () => {});
  return {
    configured: true,
    client,
    async ping() {
      await client.ping();
    },
    async close() {
      client.disconnect();
    },
  };
}

export const inProcessRedis: RedisStatus = {
  configured: false,
  ping: async () => {},
  close: async () => {},
};
