import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { createDeps } from "../src/deps.js";
import { createProject, defaultProjectSettings } from "../src/domain/projects.js";
import type { RateLimitSettings } from "../src/domain/types.js";
import { createClient, type Client } from "./soak/client.js";
import { createScratchDatabase } from "./shared/database.js";
import { build, rssMiB, spawnInstance, stopInstance, waitReady, type Instance } from "./shared/instances.js";
import { MIX, runLoad, SESSION_DURATION_MINUTES, type SoakSession } from "./soak/load.js";
import { createRecorder, summarize } from "./soak/recorder.js";
import { buildResult, formatReport, type RssSample } from "./soak/report.js";

/**
 * `npm run bench -- --soak`: minutes of exchanges, logins and revocations against two server
 * processes sharing the real Postgres and Redis — the production topology — reporting errors,
 * latency over time and memory over time. Not in CI: it takes minutes and needs both services.
 */
const CONCURRENCY = 24;
const USERS = 300;
const RSS_EVERY_MS = 5000;
const SEED_CONCURRENCY = 8;
const PASSWORD = "violet-Tractor-sunrise-91!";
const PUBLIC_URL = "http://tessera.soak"; // one issuer for both, as behind a load balancer
const MASTER_KEY = Buffer.alloc(32, 7).toString("base64");
/** Raised so the soak measures the work, not the limiter: one client IP and one secret send it all. */
const SOAK_RATE_LIMITS: Partial<RateLimitSettings> = { exchangesPerSessionPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 100_000_000, loginAttemptsPerIpPerMinute: 1_000_000 };

const log = (line: string) => console.error(line); // progress on stderr; stdout holds only the report

export async function runSoak(options: { minutes: number; json: boolean }): Promise<number> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  if (!DATABASE_URL || !REDIS_URL) {
    log("the soak needs the real Postgres and Redis: set DATABASE_URL and REDIS_URL (two instances cannot share the embedded PGlite or the in-process twins), e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 npm run bench -- --soak");
    return 2;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: string) => {
    if (signals++ === 0) log(`\n${signal}: stopping the load, then both instances, then dropping the database`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const errors = await soak(options, DATABASE_URL, REDIS_URL, controller.signal, cleanups);
    // A soak passes when nothing failed: with bounded concurrency and raised limits, no error is expected.
    return controller.signal.aborted ? 130 : errors > 0 ? 1 : 0;
  } catch (error) {
    log(`soak failed: ${(error as Error).message}`);
    return controller.signal.aborted ? 130 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${(error as Error).message}`));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function soak(options: { minutes: number; json: boolean }, baseUrl: string, redisUrl: string, signal: AbortSignal, cleanups: (() => Promise<void>)[]): Promise<number> {
  log(`building dist/ (npm run build): the soak runs the shipped bin/tessera.cjs`);
  const buildSeconds = build() / 1000;

  const database = await createScratchDatabase(baseUrl, "tessera_soak_");
  cleanups.push(async () => {
    await database.drop();
    log(`dropped database ${database.name}`);
  });
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-soak-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  // The project exists before the servers start, created in this process like the CLI would.
  const setupConfig = loadConfig({ NODE_ENV: "test", DATABASE_URL: database.url, TESSERA_MASTER_KEY: MASTER_KEY, DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const deps = await createDeps(setupConfig, { logger: pino({ level: "silent" }) });
  const created = await createProject(deps, { name: "soak", settings: { rateLimits: SOAK_RATE_LIMITS } }).finally(() => deps.close());
  const rateLimits = Object.fromEntries(Object.entries(SOAK_RATE_LIMITS).map(([name, soak]) => [name, { default: defaultProjectSettings.rateLimits[name as keyof RateLimitSettings], soak }]));
  log(`raised the soak project's rate limits so the soak measures the work, not the limiter: ${Object.entries(rateLimits).map(([name, { default: was, soak: now }]) => `${name} ${was} → ${now}`).join(", ")}`);

  const env = { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATABASE_URL: database.url, REDIS_URL: redisUrl, TESSERA_MASTER_KEY: MASTER_KEY, PUBLIC_URL, LOG_LEVEL: "warn" };
  const instances: Instance[] = [];
  for (const name of ["a", "b"]) {
    const instance = await spawnInstance(name, { ...env, DATA_DIR: join(dataDir, name) });
    instances.push(instance);
    cleanups.push(async () => log(`stopped instance ${name} (pid ${instance.pid}): ${await stopInstance(instance)}`));
  }
  await Promise.all(instances.map((instance) => waitReady(instance, signal)));
  const readyRss = Object.fromEntries(instances.map((i) => [i.name, rssMiB(i.pid)])); // before any request: the baseline
  log(`instances ${instances.map((i) => `${i.name} pid ${i.pid} ${i.url}`).join(", ")}; database ${database.name}`);

  const authorization = `Basic ${Buffer.from(`${created.project.projectId}:${created.secret}`).toString("base64")}`;
  const client = createClient(authorization, CONCURRENCY);
  cleanups.push(async () => client.close());
  const seedStarted = performance.now();
  const { emails, pool } = await seed(client, instances, signal);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  log(`seeded ${emails.length} users with a session each in ${seedSeconds.toFixed(1)} s`);

  const durationMs = options.minutes * 60_000;
  // About ten slices: per minute for the default 10 minutes, never under 10 s.
  const sliceMs = Math.max(10, Math.round(durationMs / 10 / 1000)) * 1000;
  const recorder = createRecorder(sliceMs, durationMs);
  const rss: RssSample[] = [];
  const sampleRss = () => rss.push({ atSeconds: recorder.elapsedSeconds(), mib: Object.fromEntries(instances.map((i) => [i.name, rssMiB(i.pid)])) });
  const rssTicker = setInterval(sampleRss, RSS_EVERY_MS);
  log(`soak: ${options.minutes} min, ${CONCURRENCY} requests in flight across both instances, ${sliceMs / 1000} s slices`);
  recorder.start();
  sampleRss();
  const ticker = setInterval(() => {
    const slice = recorder.slices[Math.floor((recorder.elapsedSeconds() * 1000) / sliceMs) - 1]; // the one just completed
    if (!slice) return;
    const exchange = summarize(slice.latencies.exchange_token, slice.latencies.exchange_jwt);
    const memory = instances.map((i) => `${i.name} ${rssMiB(i.pid)?.toFixed(0) ?? "-"}`).join(" ");
    log(`  ${Math.round(recorder.elapsedSeconds())} s: ${(slice.requests / (sliceMs / 1000)).toFixed(0)} req/s, exchange p99 ${exchange.p99} ms, errors ${slice.errors}, RSS ${memory} MiB`);
  }, sliceMs);
  try {
    await runLoad({ targets: instances, client, recorder, emails, password: PASSWORD, pool, durationMs, concurrency: CONCURRENCY, signal });
  } finally {
    clearInterval(ticker);
    clearInterval(rssTicker);
  }
  const durationSeconds = recorder.elapsedSeconds();
  sampleRss();

  const result = buildResult({
    minutes: options.minutes,
    interrupted: signal.aborted,
    durationSeconds,
    recorder,
    rss,
    readyRss,
    instances,
    setup: { instances: instances.length, concurrency: CONCURRENCY, users: USERS, sessionDurationMinutes: SESSION_DURATION_MINUTES, sliceSeconds: sliceMs / 1000, mix: MIX, rateLimits, database: database.name, buildSeconds: Math.round(buildSeconds * 10) / 10, seedSeconds: Math.round(seedSeconds * 10) / 10, node: process.version },
  });
  console.log(formatReport(result));
  if (options.json) console.log(JSON.stringify(result));
  return result.totals.errors; // violations included
}

/** Signs up USERS users through the servers (both), each with one session: the pool the load draws on. */
async function seed(client: Client, instances: Instance[], signal: AbortSignal): Promise<{ emails: string[]; pool: SoakSession[] }> {
  const emails = Array.from({ length: USERS }, (_, i) => `soak-${i}@example.com`);
  const pool: SoakSession[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async (_, worker) => {
      while (next < emails.length) {
        if (signal.aborted) throw new Error("interrupted while seeding");
        const email = emails[next++]!;
        const reply = await client.post(instances[worker % instances.length]!.url, "/v1/passwords", { email, password: PASSWORD, session_duration_minutes: SESSION_DURATION_MINUTES });
        if (reply.status !== 200) throw new Error(`seeding ${email} got ${reply.status} ${JSON.stringify(reply.body)}`);
        const body = reply.body as { session: { session_id: string }; session_token: string; session_jwt: string };
        pool.push({ id: body.session.session_id, token: body.session_token, jwt: body.session_jwt });
      }
    }),
  );
  return { emails, pool };
}
