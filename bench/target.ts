import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runProgram } from "./child.js";
import { createScratchDatabase } from "./shared/database.js";
import { freePort, root, spawnInstance, stopInstance, waitReady, type Instance } from "./shared/instances.js";
import { defaultHashConcurrency } from "../src/config.js";

/** The server under test: `node bin/tessera.cjs serve` as an operator runs it, and the CLI next to it. */
export interface Target {
  url: string;
  instance: Instance;
  /** What it stores in, for the report. */
  storage: string;
  /** NODE_ENV and LOG_LEVEL of the server, for the report. */
  runtime: string;
  /** `tessera <args> --json` against the running server's management API; its JSON answer. */
  cli(args: string[]): Promise<unknown>;
  /** What the server itself counted (its /metrics): the answers that were not 2xx, and rate-limit refusals. */
  refusals(): Promise<ServerRefusals>;
  /**
   * Another server on the same Postgres and Redis, with its own port, admin port and DATA_DIR, and
   * `extraEnv` (WEB_CONCURRENCY=2, say); null on the embedded default, whose database serves one process.
   */
  startSibling(name: string, extraEnv: Record<string, string>): Promise<Sibling> | null;
}

export interface Sibling {
  instance: Instance;
  /** SIGTERM (every worker drains), and how it exited. */
  stop(): Promise<string>;
}

export interface ServerRefusals {
  /** "METHOD route status" → count, for every status outside 2xx (but /readyz's before the server was ready). */
  non2xx: Record<string, number>;
  /** rule → count: expected empty, since the bench raised the limits. */
  rateLimited: Record<string, number>;
}

/** Sums of a Prometheus text-format counter, by the labels `key` picks. */
function counters(text: string, metric: string, key: (labels: Record<string, string>) => string | null): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const name = key(labels);
    if (name !== null && Number(match[2]) > 0) sums[name] = (sums[name] ?? 0) + Number(match[2]);
  }
  return sums;
}

type Cleanups = (() => Promise<void>)[];

/**
 * The server's log lines (pino JSON, LOG_LEVEL=warn) by their message, and anything on stderr (a
 * crash). Not the plain text on stdout: that is the development banner, which shows the first
 * project's secret once and does not belong in a report.
 */
function warningsOnly(line: string, from: "stdout" | "stderr"): string | null {
  if (from === "stderr") return line;
  try {
    const entry = JSON.parse(line) as { msg?: unknown };
    return typeof entry.msg === "string" ? entry.msg : "(a log line without a message)";
  } catch {
    return null;
  }
}

/**
 * Real Postgres (a fresh database, dropped afterwards) and Redis when DATABASE_URL and REDIS_URL are
 * set, else the embedded default (PGlite in a scratch DATA_DIR, in-process rate limits and feed).
 * LOG_LEVEL=warn: the per-request info line is not what a hot-path benchmark measures (the peers log
 * nothing either); anything the server does log is a warning and is reported.
 */
export async function startTarget(scratchDir: string, cleanups: Cleanups, signal: AbortSignal, log: (line: string) => void): Promise<Target> {
  const { DATABASE_URL, REDIS_URL } = process.env;
  const real = Boolean(DATABASE_URL && REDIS_URL);
  if (!real && (DATABASE_URL || REDIS_URL)) log("only one of DATABASE_URL and REDIS_URL is set: the bench needs both for the real services, so it runs embedded");
  const database = real ? await createScratchDatabase(DATABASE_URL!, "tessera_bench_") : null;
  if (database) cleanups.push(async () => database.drop().then(() => log(`dropped database ${database.name}`)));
  const dataDir = join(scratchDir, "data");
  mkdirSync(dataDir);

  const [port, adminPort] = [await freePort(), await freePort()];
  const metricsToken = randomBytes(24).toString("hex");
  const url = `http://127.0.0.1:${port}`;
  let siblings = 0;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: real ? "production" : "development", // production refuses the embedded database
    LOG_LEVEL: "warn",
    PUBLIC_URL: url,
    DATA_DIR: dataDir,
    ADMIN_HOST: "127.0.0.1",
    ADMIN_PORT: String(adminPort),
    TESSERA_MASTER_KEY: randomBytes(32).toString("base64"),
    TESSERA_ADMIN_KEY: randomBytes(32).toString("base64url"),
    METRICS_TOKEN: metricsToken, // the server counts every request anyway; the token only opens /metrics
    ...(database ? { DATABASE_URL: database.url, REDIS_URL: REDIS_URL! } : {}),
  };
  const instance = await spawnInstance("bench", env, { port, record: warningsOnly });
  cleanups.push(async () => log(`stopped the server (pid ${instance.pid}): ${await stopInstance(instance)}`));
  await waitReady(instance, signal);

  const redisHost = REDIS_URL ? new URL(REDIS_URL).host : "";
  const cliEnv = { ...env, TESSERA_ADMIN_URL: `http://127.0.0.1:${adminPort}`, LOG_LEVEL: "silent" };
  return {
    url,
    instance,
    storage: database
      ? `real services: Postgres (fresh database ${database.name}, dropped afterwards) and Redis (${redisHost})`
      : "embedded default: PGlite in a scratch DATA_DIR, in-process rate limits and revocation feed (set DATABASE_URL and REDIS_URL for the real services)",
    runtime: `NODE_ENV=${env.NODE_ENV} LOG_LEVEL=${env.LOG_LEVEL}, defaults otherwise (PASSWORD_HASH_CONCURRENCY=${defaultHashConcurrency()})`,
    async cli(args) {
      const stdout = await runProgram(process.execPath, [join(root, "bin/tessera.cjs"), ...args, "--json"], { env: cliEnv, signal, timeoutMs: 60_000 });
      return JSON.parse(stdout);
    },
    startSibling: (name, extraEnv) =>
      database &&
      (async () => {
        const siblingDir = join(scratchDir, `sibling-${++siblings}`);
        mkdirSync(siblingDir);
        const sibling = await spawnInstance(name, { ...env, ...extraEnv, DATA_DIR: siblingDir, ADMIN_PORT: String(await freePort()) }, { record: warningsOnly });
        const stop = () => stopInstance(sibling);
        try {
          await waitReady(sibling, signal);
        } catch (error) {
          await stop();
          throw error;
        }
        return { instance: sibling, stop };
      })(),
    async refusals() {
      const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
      const text = await response.text();
      return {
        non2xx: counters(text, "tessera_http_requests_total", (l) => (l.status?.startsWith("2") || l.route === "/readyz" ? null : `${l.method} ${l.route} ${l.status}`)),
        rateLimited: counters(text, "tessera_rate_limit_refusals_total", (l) => l.rule ?? "unknown"),
      };
    },
  };
}
