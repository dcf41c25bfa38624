import type { Hono } from "hono";
import type { Store } from "../../domain/ports.js";
import type { RedisStatus } from "../../redis/connection.js";
import type { AppEnv } from "../context.js";

const PROBE_TIMEOUT_MS = 2000;

export async function probe(check: () => Promise<unknown>): Promise<"ok" | "down"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz: the process answers. /readyz: ready while Postgres answers. A Redis outage is reported
 * but keeps the instance in rotation: the Redis-backed parts run on their in-process fallbacks.
 */
export function registerOpsRoutes(app: Hono<AppEnv>, deps: { store: Store; redis: RedisStatus }) {
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const [database, redis] = await Promise.all([probe(() => deps.store.ping()), deps.redis.configured ? probe(() => deps.redis.ping()) : Promise.resolve("in-process" as const)]);
    const ready = database === "ok";
    return c.json({ status: ready ? "ready" : "not_ready", database, redis }, ready ? 200 : 503);
  });
}
