import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
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

/** For the error handlers: whether the database answers a ping within the probe's bound. */
export const databaseAnswers = (store: { ping(): Promise<unknown> }) => async () => (await probe(() => store.ping())) === "ok";

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["operations"],
  summary: "Liveness: the process answers",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: z.object({ status: z.literal("ok") }), example: { status: "ok" as const } } } } },
});

const Readiness = z.object({ status: z.enum(["ready", "not_ready"]), database: z.enum(["ok", "down"]), redis: z.enum(["ok", "down", "in-process"]) }).openapi("Readiness");
const readiness = (example: z.infer<typeof Readiness>) => ({ "application/json": { schema: Readiness, example } });
const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["operations"],
  summary: "Readiness: ready while Postgres answers, once the server has finished starting",
  description: "Not ready until start-up is complete (the first project made, the server announced to the CLI in DATA_DIR), then ready while Postgres answers. A Redis outage is reported in the body but keeps the instance ready: the Redis-backed parts run on their in-process fallbacks. `in-process`: no REDIS_URL.",
  responses: {
    200: { description: "Ready", content: readiness({ status: "ready", database: "ok", redis: "ok" }) },
    503: { description: "Not ready: still starting, or Postgres does not answer", content: readiness({ status: "not_ready", database: "down", redis: "ok" }) },
  },
});

/**
 * /healthz: the process answers. /readyz: ready once start-up is complete, while Postgres answers.
 * A Redis outage is reported but keeps the instance in rotation: the Redis-backed parts run on their
 * in-process fallbacks.
 */
export function registerOpsRoutes(app: OpenAPIHono<AppEnv>, deps: { store: Store; redis: RedisStatus; startupComplete?: () => boolean }) {
  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(readyRoute, async (c) => {
    const [database, redis] = await Promise.all([probe(() => deps.store.ping()), deps.redis.configured ? probe(() => deps.redis.ping()) : Promise.resolve("in-process" as const)]);
    // Before start-up is done, a CLI call on DATA_DIR would not find this server yet and hit the lock.
    const ready = database === "ok" && (deps.startupComplete?.() ?? true);
    return c.json({ status: ready ? "ready" : "not_ready", database, redis }, ready ? 200 : 503);
  });
}
