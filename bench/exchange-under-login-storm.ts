import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { createDeps } from "../src/deps.js";
import { createProject } from "../src/domain/projects.js";
import { createApp } from "../src/http/app.js";
import { median, runFor } from "./stats.js";

/**
 * Exchanges per second alone and during a 64-way login flood, with the hashing cap (default 2) and
 * without it (64). The ratio "during / alone" is what matters on a shared, noisy machine.
 */
const PHASE_MS = 2000;
const ROUNDS = 3;
const EXCHANGE_CONCURRENCY = 8;
const STORM = 64;

async function scenario(hashConcurrency: number) {
  const config = loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/tessera-bench", LOG_LEVEL: "silent", TESSERA_MASTER_KEY: Buffer.alloc(32, 7).toString("base64"), PASSWORD_HASH_CONCURRENCY: String(hashConcurrency), PASSWORD_HASH_QUEUE_LIMIT: "100000" });
  const deps = await createDeps(config, { inMemoryDatabase: true, logger: pino({ level: "silent" }) });
  const app = createApp(deps);
  // A benchmark measures the work, not the limiter: one session exchanged thousands of times a second
  // and a 64-way login storm from one address would hit the per-session, per-email and per-IP limits.
  const rateLimits = { exchangesPerSessionPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 100_000_000, loginAttemptsPerIpPerMinute: 1_000_000, loginFailuresPerEmail: 1_000_000 };
  const { project, secret } = await createProject(deps, { name: "bench", settings: { rateLimits } });
  console.log(`(bench project: rate limits raised so the bench measures the work: ${Object.entries(rateLimits).map(([k, v]) => `${k}=${v}`).join(", ")})`);
  const authorization = `Basic ${Buffer.from(`${project.projectId}:${secret}`).toString("base64")}`;
  const post = (path: string, body: unknown) => app.request(path, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
  const password = "violet-Tractor-sunrise-91!";
  const { session_token } = (await (await post("/v1/passwords", { email: "bench@example.com", password, session_duration_minutes: 600 })).json()) as { session_token: string };
  const exchange = async () => {
    const response = await post("/v1/sessions/authenticate", { session_token });
    if (response.status !== 200) throw new Error(`exchange ${response.status}`);
  };

  const alone: number[] = [];
  const during: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    alone.push(await runFor(PHASE_MS, EXCHANGE_CONCURRENCY, exchange));
    let storming = true;
    const storm = Array.from({ length: STORM }, async () => {
      while (storming) await post("/v1/passwords/authenticate", { email: "bench@example.com", password });
    });
    await new Promise((r) => setTimeout(r, 200)); // let the flood build up
    during.push(await runFor(PHASE_MS, EXCHANGE_CONCURRENCY, exchange));
    storming = false;
    await Promise.all(storm);
  }
  await deps.close();
  return { alone: median(alone), during: median(during) };
}

export async function benchExchangeUnderLoginStorm() {
  console.log(`\nexchanges/s alone vs during a ${STORM}-way login storm (median of ${ROUNDS} × ${PHASE_MS} ms, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE})`);
  for (const cap of [2, 64]) {
    const { alone, during } = await scenario(cap);
    console.log(`  hashing cap ${String(cap).padStart(2)}: alone ${alone.toFixed(0).padStart(6)}/s   during storm ${during.toFixed(0).padStart(6)}/s   ratio ${(during / alone).toFixed(2)}`);
  }
}
