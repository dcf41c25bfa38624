import { execFileSync } from "node:child_process";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { FEED_POLL_MS } from "../../src/http/routes/revocation-stream.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { startServer } from "../server-process.js";
import { sseReader } from "../sse-reader.js";
import { redisService, waitFor } from "./services.js";

/**
 * Redis stopped under two instances: logins and exchanges keep working (rate limits on their
 * per-process fallback), /readyz stays ready and says so, the instance that revokes streams it to its
 * own subscribers at once, the other instance's subscribers get it by the Postgres poll, and pub/sub
 * delivery resumes when Redis is back.
 */
describe.skipIf(!DATABASE_URL || !REDIS_URL)("fault: Redis stopped", () => {
  let environment: TestEnvironment;
  let created: CreatedProject;
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;
  let authorization: string;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL: "http://tessera.test" });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    created = await createProject(deps, { name: "redis-faults" });
    await deps.close();
    authorization = basicAuth(created.project.projectId, created.secret);
    [a, b] = await Promise.all([startServer(environment.env), startServer(environment.env)]);
  }, 90_000);

  afterAll(async () => {
    await redisService.start(); // whatever happened, leave Redis running
    await Promise.all([a?.process.stop(), b?.process.stop()]);
    await environment?.cleanup();
  }, 90_000);

  const post = async (server: Awaited<ReturnType<typeof startServer>>, path: string, body: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  };
  const signUp = async (server: Awaited<ReturnType<typeof startServer>>) => (await post(server, "/v1/passwords", { email: `r-${Math.random().toString(36).slice(2)}@example.com`, password: STRONG_PASSWORD, session_duration_minutes: 60 })).body;
  const subscribe = async (server: Awaited<ReturnType<typeof startServer>>) => {
    const stream = sseReader(await fetch(`${server.url}/v1/sessions/revocations/stream`, { headers: { authorization } }));
    while ((await stream.next(10_000)).event !== "ready");
    return stream;
  };
  /** Revokes on `via`, and returns how long until `stream` announces that session. */
  const revokeAndTime = async (via: Awaited<ReturnType<typeof startServer>>, stream: ReturnType<typeof sseReader>, timeoutMs: number) => {
    const login = await signUp(via);
    const started = performance.now();
    expect((await post(via, "/v1/sessions/revoke", { session_id: login.session.session_id })).status).toBe(200);
    for (;;) {
      const message = await stream.next(timeoutMs);
      if (message.event === "session.revoked" && JSON.parse(message.data).session_id === login.session.session_id) return performance.now() - started;
    }
  };

  it("keeps serving, delivers its own revocations at once and the other instance's by the poll, and resumes pub/sub", async () => {
    const onA = await subscribe(a);
    const onB = await subscribe(b);
    expect(await revokeAndTime(a, onB, 2_000)).toBeLessThan(1_000); // baseline: pub/sub across instances

    await redisService.stop();
    try {
      const ready = await fetch(`${a.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: "ready", database: "ok", redis: "down" });
      const login = await signUp(b); // argon2, per-IP and per-email limits on their in-memory fallback
      expect(login.session_token).toHaveLength(43);
      expect((await post(a, "/v1/sessions/authenticate", { session_token: login.session_token })).status).toBe(200);

      const local = await revokeAndTime(a, onA, 2_000);
      const remote = await revokeAndTime(a, onB, FEED_POLL_MS + 3_000);
      console.log(`redis down: own instance's stream ${local.toFixed(0)} ms, other instance's stream ${remote.toFixed(0)} ms (poll every ${FEED_POLL_MS} ms)`);
      expect(local).toBeLessThan(1_000);
      expect(remote).toBeLessThan(FEED_POLL_MS + 2_000);
    } finally {
      await redisService.start();
    }
    // ioredis reconnects (backoff ≤ 5 s) and resubscribes: cross-instance delivery is fast again.
    const resumed = await waitFor(async () => (await revokeAndTime(a, onB, FEED_POLL_MS + 3_000)) < 1_000, 20_000, "pub/sub delivery after Redis is back");
    console.log(`redis back: cross-instance delivery under 1 s again after ${resumed.toFixed(0)} ms`);
    await Promise.all([onA.close(), onB.close()]);
  });

  it("a stalled Redis (paused, not down) does not hold requests", async () => {
    const login = await signUp(a);
    const pid = Number(execFileSync("redis-cli", ["-p", new URL(REDIS_URL!).port || "6379", "info", "server"]).toString().match(/process_id:(\d+)/)![1]);
    process.kill(pid, "SIGSTOP");
    const latencies: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        expect((await post(a, "/v1/sessions/authenticate", { session_token: login.session_token })).status).toBe(200);
        latencies.push(performance.now() - started);
      }
    } finally {
      process.kill(pid, "SIGCONT");
    }
    console.log(`redis paused: exchanges answered 200 in ${latencies.map((ms) => ms.toFixed(0)).join(", ")} ms`);
    expect(Math.max(...latencies)).toBeLessThan(2_000);
  });
});
