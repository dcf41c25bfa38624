import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pickLoadTool } from "./load/tool.js";
import { formatReport, ratios, type AlgResults, type BenchReport } from "./report.js";
import * as scenario from "./scenarios.js";
import { jwtHeader, mintJwts, seed, waitForSigningKey, type Seeded } from "./seed.js";
import { build, distIsStale, root } from "./shared/instances.js";
import { createClient, type Client } from "./soak/client.js";
import { startTarget, type Target } from "./target.js";

export const SCENARIOS = ["healthz", "jose", "exchange-token", "exchange-jwt", "verify", "login", "storm", "cluster"] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const ALGS = ["RS256", "ES256", "EdDSA"] as const;

export interface BenchOptions {
  quick: boolean;
  json: boolean;
  scenarios: Scenario[];
  algs: scenario.Alg[];
  tool: "wrk" | "autocannon" | undefined;
}

const FULL: scenario.Timing = { warmupSeconds: 2, runs: 3, runSeconds: 4, cryptoWarmupMs: 500, cryptoRoundMs: 1500, users: 20, sessionsPerUser: 25 };
const QUICK: scenario.Timing = { warmupSeconds: 0, runs: 1, runSeconds: 1, cryptoWarmupMs: 100, cryptoRoundMs: 300, users: 4, sessionsPerUser: 5 };

/**
 * The bench project's limits, each at its allowed maximum: 32 connections from one address and one
 * secret, exchanging each of a few hundred sessions many times a minute, would hit the defaults at
 * once, and a benchmark measures the work, not the limiter. loginFailuresPerEmail too: each login
 * reserves a failure point before argon2 runs, so more than 5 logins in flight for one email (the
 * seeding, the storm) are refused even when every password is right.
 */
const BENCH_RATE_LIMITS = { loginFailuresPerEmail: 1_000_000, exchangesPerSessionPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 100_000_000, loginAttemptsPerIpPerMinute: 1_000_000, signUpsPerIpPerHour: 1_000_000, signUpsPerProjectPerMinute: 1_000_000 };

/** The cluster scenario's workers: the issue's target compares 2 with one process on this 2-core machine. */
const CLUSTER_WORKERS = 2;

const log = (line: string) => console.error(line); // progress on stderr; stdout holds only the report

function commit(): string {
  const git = (...args: string[]) => spawnSync("git", args, { cwd: root, encoding: "utf8" });
  const head = git("rev-parse", "--short", "HEAD");
  if (head.status !== 0) return "unknown (not a git checkout)";
  const dirty = git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? " with uncommitted changes" : ""}`;
}

export async function runBench(options: BenchOptions): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: string) => {
    if (!controller.signal.aborted) log(`\n${signal}: stopping the load, the server, then cleaning up`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const report = await bench(options, controller.signal, cleanups);
    console.log(options.json ? JSON.stringify(report) : formatReport(report));
    if (report.failedRequests > 0) log(`${report.failedRequests} requests failed: the figures include failures, so the run does not count`);
    return report.failedRequests > 0 ? 1 : 0;
  } catch (error) {
    log(`bench failed: ${(error as Error).message}`);
    return controller.signal.aborted ? 130 : 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${(error as Error).message}`));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function bench(options: BenchOptions, signal: AbortSignal, cleanups: (() => Promise<void>)[]): Promise<BenchReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg()[0]!;
  const timing = options.quick ? QUICK : FULL;
  const scratchDir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
  cleanups.push(async () => rmSync(scratchDir, { recursive: true, force: true }));
  if (distIsStale()) {
    log("dist/ is missing or older than src/: building it (npm run build), the bench runs the shipped bin/tessera.cjs");
    build();
  }
  const tool = pickLoadTool(options.tool, scratchDir);
  log(`starting the server (node bin/tessera.cjs serve) …`);
  const target = await startTarget(scratchDir, cleanups, signal, log);
  target.instance.logged = { count: 0, first: [] }; // from here on: what the load made the server say
  log(`server ${target.url} (pid ${target.instance.pid}); ${target.storage}`);
  const ctx: scenario.Context = { url: target.url, tool, timing, signal, authorization: "", log };
  const wants = (name: Scenario) => options.scenarios.includes(name);

  let healthz: BenchReport["healthz"];
  if (wants("healthz")) {
    log("healthz …");
    healthz = await scenario.healthz(ctx);
  }
  const algorithms: BenchReport["algorithms"] = {};
  let rateLimits: BenchReport["setup"]["rateLimits"] = null;
  let sessions: BenchReport["setup"]["sessions"] = null;
  if (options.scenarios.some((name) => name !== "healthz")) {
    const project = await createBenchProject(target);
    rateLimits = project.rateLimits;
    ctx.authorization = `Basic ${Buffer.from(`${project.projectId}:${project.secret}`).toString("base64")}`;
    const client = createClient(ctx.authorization, 8);
    cleanups.push(async () => client.close());
    log(`seeding ${timing.users} users × ${timing.sessionsPerUser} sessions through the API …`);
    const seedStarted = performance.now();
    const seeded = await seed(client, target.url, { users: timing.users, sessionsPerUser: timing.sessionsPerUser }, signal);
    sessions = { users: timing.users, perUser: timing.sessionsPerUser, total: seeded.tokens.length };
    log(`seeded ${seeded.tokens.length} sessions in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    for (const alg of options.algs) algorithms[alg] = await benchAlgorithm(ctx, { target, client, seeded, project, alg, wants });
  }

  const clusterRuns = (r: AlgResults) => (r.cluster && "workers" in r.cluster ? [r.cluster.one, r.cluster.cluster] : []);
  const all = [healthz, ...Object.values(algorithms).flatMap((r) => [r.exchangeToken, r.exchangeJwt, r.login, r.storm?.exchange, r.storm?.logins, ...clusterRuns(r)])];
  return {
    startedAt,
    seconds: (performance.now() - started) / 1000,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? "unknown", node: process.version, platform: `${process.platform} ${process.arch}`, loadAverageAtStart },
    commit: commit(),
    setup: {
      server: "node bin/tessera.cjs serve (one process)",
      storage: target.storage,
      runtime: target.runtime,
      loadTool: tool.describe,
      connections: scenario.CONNECTIONS,
      warmupSeconds: timing.warmupSeconds,
      runs: timing.runs,
      runSeconds: timing.runSeconds,
      quick: options.quick,
      sessions,
      rateLimits,
    },
    ratios: ratios(healthz, algorithms),
    ...(healthz ? { healthz } : {}),
    algorithms,
    failedRequests: all.reduce((sum, r) => sum + (r ? r.non2xx + r.socketErrors : 0), 0),
    serverWarnings: target.instance.logged,
    serverRefusals: await target.refusals(),
  };
}

interface BenchProject {
  projectId: string;
  secret: string;
  rateLimits: Record<string, [number, number]>;
}

/** Created and configured through the CLI against the running server, as an operator would. */
async function createBenchProject(target: Target): Promise<BenchProject> {
  const created = (await target.cli(["projects", "create", "--name", "bench"])) as { project_id: string; secret: string };
  const before = (await target.cli(["projects", "show", "--project", created.project_id])) as { settings: { rateLimits: Record<string, number> } };
  const sets = Object.entries(BENCH_RATE_LIMITS).flatMap(([name, value]) => ["--set", `rateLimits.${name}=${value}`]);
  const after = (await target.cli(["projects", "update", "--project", created.project_id, ...sets])) as { settings: { rateLimits: Record<string, number> } };
  const rateLimits = Object.fromEntries(Object.entries(BENCH_RATE_LIMITS).map(([name, value]) => [name, [before.settings.rateLimits[name]!, after.settings.rateLimits[name]!]])) as Record<string, [number, number]>;
  for (const [name, value] of Object.entries(BENCH_RATE_LIMITS)) if (rateLimits[name]![1] !== value) throw new Error(`projects update did not set rateLimits.${name}`);
  log(`project ${created.project_id}: rate limits raised so the bench measures the work, not the limiter: ${Object.entries(rateLimits).map(([name, [was, now]]) => `${name} ${was} → ${now}`).join(", ")}`);
  return { projectId: created.project_id, secret: created.secret, rateLimits };
}

async function benchAlgorithm(
  ctx: scenario.Context,
  input: { target: Target; client: Client; seeded: Seeded; project: BenchProject; alg: scenario.Alg; wants: (name: Scenario) => boolean },
): Promise<AlgResults> {
  const { target, client, seeded, project, alg, wants } = input;
  const { url, signal } = ctx;
  // The algorithm applies to the next key made; --now makes it sign at once (and retires the old keys).
  await target.cli(["projects", "update", "--project", project.projectId, "--set", `jwtAlgorithm=${alg}`]);
  const rotated = (await target.cli(["keys", "rotate", "--project", project.projectId, "--now"])) as { moves: { kid: string; to: string }[] };
  const kid = rotated.moves.find((move) => move.to === "current")?.kid;
  if (!kid) throw new Error(`keys rotate --now made no current key: ${JSON.stringify(rotated)}`);
  const waited = await waitForSigningKey(client, url, seeded.tokens[0]!, kid, signal);
  log(`${alg}: jwtAlgorithm set and keys rotated (tessera keys rotate --now); the exchange signs with ${kid} after ${waited.toFixed(1)} s`);
  const [sample] = await mintJwts(client, url, seeded.tokens.slice(0, 1), signal);
  if (jwtHeader(sample!).alg !== alg) throw new Error(`the exchange signs with ${jwtHeader(sample!).alg}, not ${alg}`);

  const results: AlgResults = { kid };
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    log(`${alg}: ${name} …`);
    return work();
  };
  if (wants("jose")) results.jose = await step("bare jose sign and verify", () => scenario.bareJose(ctx, alg, sample!));
  if (wants("exchange-token") || wants("storm")) results.exchangeToken = await step("exchange by session_token", () => scenario.exchangeByToken(ctx, seeded.tokens));
  if (wants("exchange-jwt")) {
    const jwts = await mintJwts(client, url, seeded.tokens, signal); // fresh: the default JWT lifetime is 5 minutes
    results.exchangeJwt = await step("exchange by session_jwt", () => scenario.exchangeByJwt(ctx, jwts));
  }
  if (wants("verify")) {
    const [jwt] = await mintJwts(client, url, seeded.tokens.slice(0, 1), signal);
    results.verify = await step("tessera/verify vs bare jose.jwtVerify", () => scenario.localVerification(ctx, project, jwt!));
  }
  if (wants("login")) results.login = await step("login", () => scenario.login(ctx, seeded.emails));
  if (wants("storm")) results.storm = await step("exchange during a login storm", () => scenario.exchangeInLoginStorm(ctx, seeded.tokens, seeded.emails));
  if (wants("cluster")) results.cluster = await step(`exchange on one process and on WEB_CONCURRENCY=${CLUSTER_WORKERS}`, () => clusterScenario(ctx, target, seeded.tokens, alg));
  return results;
}

/** Started after the key rotation, so its workers sign with the current key from their first request. */
async function clusterScenario(ctx: scenario.Context, target: Target, tokens: string[], alg: scenario.Alg): Promise<NonNullable<AlgResults["cluster"]>> {
  const starting = target.startSibling(`cluster-${alg}`, { WEB_CONCURRENCY: String(CLUSTER_WORKERS) });
  if (!starting) {
    const skipped = "skipped: the embedded default serves one process (set DATABASE_URL and REDIS_URL)";
    log(`${alg}: cluster ${skipped}`);
    return { skipped };
  }
  const sibling = await starting;
  try {
    log(`${alg}: WEB_CONCURRENCY=${CLUSTER_WORKERS} server ${sibling.instance.url} (pid ${sibling.instance.pid}) on the same database`);
    const measuredPair = await scenario.exchangeOneVsCluster(ctx, tokens, sibling.instance.url);
    return { workers: CLUSTER_WORKERS, ...measuredPair, warnings: sibling.instance.logged };
  } finally {
    log(`${alg}: stopped the cluster (pid ${sibling.instance.pid}): ${await sibling.stop()}`);
  }
}
