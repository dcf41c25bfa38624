import { availableParallelism } from "node:os";
import { z } from "zod";

/** Validated, frozen configuration. Only `loadConfig` reads the environment. */
export interface Config {
  readonly nodeEnv: "development" | "production" | "test";
  readonly port: number;
  readonly host: string;
  /** The server's public base URL, no trailing slash; the default JWT `iss`. */
  readonly publicUrl: string;
  /** Folder of the embedded database and the generated master key. */
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Decoded master keys; the first encrypts, all decrypt. Undefined: generated into `dataDir`. */
  readonly masterKeys: readonly Buffer[] | undefined;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  readonly bodyLimitBytes: number;
  /** Concurrent argon2 operations; kept below the libuv pool so JWT crypto always has threads. */
  readonly passwordHashConcurrency: number;
  /** Nice levels below the event loop for the process's other threads (libuv pool, V8 helpers); 0: off. */
  readonly helperThreadNice: number;
  /** Logins allowed to wait for a hashing slot before new ones get 429. */
  readonly passwordHashQueueLimit: number;
  /** Backstop of the drain on SIGTERM: connections still open after this long are cut. */
  readonly shutdownTimeoutMs: number;
  /** Longest wait for one database call in a request; past it the request fails closed with a 503. */
  readonly databaseTimeoutMs: number;
  /** The management API's key; undefined: generated into DATA_DIR/admin.key (off in production). */
  readonly adminKey: string | undefined;
  /** The management API's own listener; null: no listener (ADMIN_PORT=off). */
  readonly adminPort: number | null;
  readonly adminHost: string;
  /** For the CLI: a running server's management API (else the one announced in DATA_DIR, else none). */
  readonly adminUrl: string | undefined;
  /** Also serve the management API under /admin on the public listener (one-port platforms). */
  readonly adminOnPublicListener: boolean;
  /** Longest a client may take to send a whole request (slow bodies); Node answers 408. */
  readonly requestTimeoutMs: number;
  /** Longest a client may take to send the request headers (slowloris); at most requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  /** Header carrying the client address set by a trusted proxy; undefined: the socket address. */
  readonly trustProxyHeader: string | undefined;
  /** Bearer token that GET /metrics requires; undefined: /metrics is not served (404). */
  readonly metricsToken: string | undefined;
  /** Server processes on this machine (WEB_CONCURRENCY); above 1, a node:cluster primary forks that many workers. */
  readonly webConcurrency: number;
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every bad variable at once (one line each), so a start-up shows all of them, not one per restart. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(
    readonly problems: ConfigProblem[],
    options?: { cause?: unknown },
  ) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join("\n"), options);
    this.name = "ConfigError";
    this.variable = problems[0]!.variable;
  }
}

/** Collects problems while reading; a bad value is noted and its default stands in until the end. */
type Problems = ConfigProblem[];

type Env = Record<string, string | undefined>;

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

function read<T>(env: Env, problems: Problems, variable: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  problems.push({ variable, message: parsed.error.issues.map((i) => i.message).join("; ") });
  return fallback;
}

/** A bearer token someone could guess would expose the metrics: long, and sendable in a header as is. */
const MetricsToken = z
  .string()
  .min(16, "must be at least 16 characters (generate one with `openssl rand -hex 32`)")
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

function decodeMasterKey(value: string): Buffer | null {
  const key = Buffer.from(value.trim(), "base64");
  return key.length === 32 && key.toString("base64").replace(/=+$/, "") === value.trim().replace(/=+$/, "") ? key : null;
}

function readMasterKeys(env: Env, problems: Problems): Buffer[] | undefined {
  const variable = env.TESSERA_MASTER_KEYS ? "TESSERA_MASTER_KEYS" : env.TESSERA_MASTER_KEY ? "TESSERA_MASTER_KEY" : null;
  if (!variable) return undefined;
  const parts = env[variable]!.split(",").map((s) => s.trim()).filter(Boolean);
  const keys = parts.map(decodeMasterKey);
  if (parts.length === 0) problems.push({ variable, message: "lists no key" });
  else if (keys.some((k) => k === null) || (variable === "TESSERA_MASTER_KEY" && keys.length > 1)) {
    // The value itself is never echoed: it is (nearly) a secret.
    problems.push({ variable, message: "must be 32 bytes encoded as base64 (generate one with `openssl rand -base64 32`)" });
  } else return keys as Buffer[];
  return undefined;
}

/** Beyond this, more workers on one machine only add connections (each has its own Postgres pool). */
const MAX_WEB_CONCURRENCY = 64;

/**
 * WEB_CONCURRENCY: an integer, or `auto` (one worker per available core). Workers share nothing in
 * memory, so the embedded database (one process per DATA_DIR) and the in-process stand-ins for Redis
 * (per-process rate limits and revocation feed) cannot serve them. `auto` asks for a cluster even where
 * it comes to one worker, so a configuration does not start on one machine and fail on a bigger one.
 */
function readWebConcurrency(env: Env, problems: Problems): number {
  const raw = env.WEB_CONCURRENCY?.trim();
  const auto = raw === "auto";
  const error = `must be an integer from 1 to ${MAX_WEB_CONCURRENCY}, or "auto" (one worker per core)`;
  const schema = z.coerce.number({ error }).int({ error }).min(1, { error }).max(MAX_WEB_CONCURRENCY, { error });
  const workers = auto ? Math.min(availableParallelism(), MAX_WEB_CONCURRENCY) : read(env, problems, "WEB_CONCURRENCY", schema, 1);
  if (workers > 1 || auto) {
    const asked = auto ? "auto (one worker per core) needs" : `${workers} workers need`;
    if (!env.DATABASE_URL) problems.push({ variable: "WEB_CONCURRENCY", message: `${asked} DATABASE_URL: the embedded database (PGlite in DATA_DIR) serves one process; set DATABASE_URL to a Postgres database, or WEB_CONCURRENCY=1` });
    if (!env.REDIS_URL) problems.push({ variable: "WEB_CONCURRENCY", message: `${asked} REDIS_URL: rate limits and the revocation feed must be shared by the workers; set REDIS_URL, or WEB_CONCURRENCY=1` });
  }
  return workers;
}

function readUrl(env: Env, problems: Problems, variable: string, protocols: string[]): string | undefined {
  const raw = env[variable];
  if (!raw) return undefined;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    problems.push({ variable, message: "is not a URL" });
    return undefined;
  }
  if (protocols.includes(url.protocol)) return raw;
  problems.push({ variable, message: `must start with ${protocols.map((p) => `${p}//`).join(" or ")}` });
  return undefined;
}

/**
 * argon2 at m=19 MiB keeps a core busy for each hash: two at once on a 2-core machine leave the
 * exchange no core during a login flood. So the default leaves one core free, and caps at 2.
 */
export const defaultHashConcurrency = (cores = availableParallelism()) => Math.max(1, Math.min(2, cores - 1));

export function loadConfig(env: Env): Config {
  const problems: Problems = [];
  const nodeEnv = read(env, problems, "NODE_ENV", z.enum(["development", "production", "test"]), "development");
  const port = read(env, problems, "PORT", intIn(0, 65535), 3000);
  const publicUrl = (readUrl(env, problems, "PUBLIC_URL", ["http:", "https:"]) ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const databaseUrl = readUrl(env, problems, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const redisUrl = readUrl(env, problems, "REDIS_URL", ["redis:", "rediss:"]);
  const masterKeys = readMasterKeys(env, problems);

  if (nodeEnv === "production") {
    // Only when unset: a malformed value has its own problem already.
    if (!env.DATABASE_URL) problems.push({ variable: "DATABASE_URL", message: "is required when NODE_ENV=production (the embedded database is for development)" });
    if (!env.REDIS_URL) problems.push({ variable: "REDIS_URL", message: "is required when NODE_ENV=production (the in-process fallbacks are single-instance)" });
    if (!env.TESSERA_MASTER_KEY && !env.TESSERA_MASTER_KEYS) problems.push({ variable: "TESSERA_MASTER_KEY", message: "is required when NODE_ENV=production (set TESSERA_MASTER_KEY or TESSERA_MASTER_KEYS)" });
    if (!env.PUBLIC_URL) problems.push({ variable: "PUBLIC_URL", message: "is required when NODE_ENV=production (links in logs and banners, and the JWT issuer of projects with issuerFormat=public_url)" });
  }

  const requestTimeoutMs = read(env, problems, "REQUEST_TIMEOUT_MS", intIn(1000, 600_000), 10_000);
  const headersTimeoutMs = read(env, problems, "HEADERS_TIMEOUT_MS", intIn(1000, 600_000), 10_000);
  // Node refuses a headers timeout longer than the request timeout: say so here, naming the variable.
  if (headersTimeoutMs > requestTimeoutMs) problems.push({ variable: "HEADERS_TIMEOUT_MS", message: `must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})` });

  const config = {
    nodeEnv,
    port,
    host: read(env, problems, "HOST", z.string().min(1), "0.0.0.0"),
    publicUrl,
    dataDir: read(env, problems, "DATA_DIR", z.string().min(1), ".tessera"),
    databaseUrl,
    redisUrl,
    masterKeys: masterKeys ? Object.freeze(masterKeys) : undefined,
    logLevel: read(env, problems, "LOG_LEVEL", z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), "info"),
    bodyLimitBytes: read(env, problems, "BODY_LIMIT_BYTES", intIn(1024, 10 * 1024 * 1024), 64 * 1024),
    passwordHashConcurrency: read(env, problems, "PASSWORD_HASH_CONCURRENCY", intIn(1, 64), defaultHashConcurrency()),
    helperThreadNice: read(env, problems, "HELPER_THREAD_NICE", intIn(0, 19), 10),
    passwordHashQueueLimit: read(env, problems, "PASSWORD_HASH_QUEUE_LIMIT", intIn(0, 100_000), 256),
    shutdownTimeoutMs: read(env, problems, "SHUTDOWN_TIMEOUT_MS", intIn(0, 600_000), 10_000),
    requestTimeoutMs,
    headersTimeoutMs,
    databaseTimeoutMs: read(env, problems, "DATABASE_TIMEOUT_MS", intIn(100, 600_000), 2_000),
    adminKey: read(env, problems, "TESSERA_ADMIN_KEY", z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -base64 32`)"), undefined as string | undefined),
    adminPort: read(env, problems, "ADMIN_PORT", z.union([z.literal("off").transform(() => null), intIn(0, 65535)], { error: 'must be a port number, or "off"' }), port === 0 ? 0 : Math.min(port + 1, 65535)),
    adminHost: read(env, problems, "ADMIN_HOST", z.string().min(1), "127.0.0.1"),
    adminUrl: readUrl(env, problems, "TESSERA_ADMIN_URL", ["http:", "https:"])?.replace(/\/+$/, ""),
    adminOnPublicListener: read(env, problems, "ADMIN_ON_PUBLIC_LISTENER", z.enum(["true", "false"], { error: "must be true or false" }).transform((v) => v === "true"), false),
    metricsToken: read(env, problems, "METRICS_TOKEN", MetricsToken, undefined as string | undefined),
    webConcurrency: readWebConcurrency(env, problems),
    trustProxyHeader: read(env, problems, "TRUST_PROXY", z.string().regex(/^[A-Za-z0-9-]+$/, "must be a header name, e.g. x-forwarded-for").transform((h) => h.toLowerCase()), undefined as string | undefined),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
