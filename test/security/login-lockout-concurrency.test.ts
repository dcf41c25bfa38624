import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject } from "../../src/domain/projects.js";
import { createApp } from "../../src/http/app.js";
import { basicAuth, createTestEnvironment, createTestServer, DATABASE_URL, REDIS_URL, signUp, STRONG_PASSWORD } from "../helpers.js";

/** Many argon2 hashes: room for a busy shared machine. */
const ARGON2_HEAVY = { timeout: 120_000 };

type Login = (email: string, password: string) => Promise<number>;

/**
 * Fires `guesses` wrong passwords for one email at once and, as soon as one of them is refused (or
 * all have settled), the right password. Only an attempt that reached argon2 can answer 401, so the
 * 401 count is the number of guesses checked.
 */
async function storm(login: Login, email: string, guesses: number) {
  const wrong = Array.from({ length: guesses }, (_, i) => login(email, `wrong-Guess-${i}-x`));
  const firstRefusal = new Promise<void>((resolve) => wrong.forEach((p) => void p.then((s) => s === 429 && resolve())));
  await Promise.race([firstRefusal, Promise.allSettled(wrong)]);
  const right = await login(email, STRONG_PASSWORD);
  const statuses = await Promise.all(wrong);
  return { checked: statuses.filter((s) => s === 401).length, refused: statuses.filter((s) => s === 429).length, right };
}

async function untilAnswers(probe: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await probe();
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("security: the per-email lockout holds under concurrency", () => {
  it("checks at most loginFailuresPerEmail of 16 simultaneous guesses; the right password in flight does not get in", ARGON2_HEAVY, async () => {
    const server = await createTestServer();
    try {
      await signUp(server, "victim@example.com");
      const login: Login = async (email, password) => (await server.call("POST", "/v1/passwords/authenticate", { email, password })).status;
      const result = await storm(login, "victim@example.com", 16);
      expect(result).toEqual({ checked: 5, refused: 11, right: 429 });
      // unknown emails are reserved and locked the same way
      expect(await storm(login, "ghost@example.com", 16)).toEqual({ checked: 5, refused: 11, right: 429 });
    } finally {
      await server.close();
    }
  });

  it.runIf(DATABASE_URL && REDIS_URL)("holds across two instances sharing Postgres and Redis", ARGON2_HEAVY, async () => {
    const environment = await createTestEnvironment();
    // one after the other: both would run the migrations on the fresh database
    const a = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    const b = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    try {
      const created = await createProject(a, { name: "two" });
      const apps = [createApp(a), createApp(b)];
      const authorization = basicAuth(created.project.projectId, created.secret);
      let turn = 0;
      const login: Login = async (email, password) => {
        const app = apps[turn++ % 2]!; // alternate instances, as a load balancer would
        const response = await app.request("/v1/passwords/authenticate", { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify({ email, password }) });
        return response.status;
      };
      expect((await apps[0]!.request("/v1/passwords", { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify({ email: "shared@example.com", password: STRONG_PASSWORD }) })).status).toBe(200);
      // before Redis is ready, each instance would count in its own insurance limiter
      await Promise.all([a, b].map((deps) => untilAnswers(() => deps.redis.ping())));
      expect(await storm(login, "shared@example.com", 16)).toEqual({ checked: 5, refused: 11, right: 429 });
    } finally {
      await Promise.all([a.close(), b.close()]);
      await environment.cleanup();
    }
  });
});
