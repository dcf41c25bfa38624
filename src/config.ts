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
  /** Logins allowed to wait for a hashing slot before new ones get 429. */
  readonly passwordHashQueueLimit: number;
  readonly shutdownTimeoutMs: number;
  /** Longest wait for one database call in a request; past it the request fails closed with a 503. */
  readonly databaseTimeoutMs: number;
  /** Header carrying the client address set by a trusted proxy; undefined: the socket address. */
  readonly trustProxyHeader: string | undefined;
  /** Bearer token that GET /metrics requires; undefined: /metrics is not served (404). */
  readonly metricsToken: string | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

function read<T>(env: Env, variable: string, schema: z.ZodType<T>, fallback: T): T {
  const raw = env[variable];
  if (raw === undefined || raw === "") return fallback;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(variable, parsed.error.issues.map((i) => i.message).join("; "));
  }
  return parsed.data;
}

/** A bearer token someone could guess would expose the metrics: long, and sendable in a header as is. */
const MetricsToken = z
  .string()
  .min(16, "must be at least 16 characters (generate one with `openssl rand -hex 32`)")
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

function decodeMasterKey(variable: string, value: string): Buffer {
  const key = Buffer.from(value.trim(), "base64");
  if (key.length !== 32 || key.toString("base64").replace(/=+$/, "") !== value.trim().replace(/=+$/, "")) {
    throw new ConfigError(variable, "must be 32 bytes encoded as base64 (generate one with `openssl rand -base64 32`)");
  }
  return key;
}

function readMasterKeys(env: Env): Buffer[] | undefined {
  if (env.TESSERA_MASTER_KEYS) {
    const parts = env.TESSERA_MASTER_KEYS.split(",").map((s) => s.trim()).filter(Boolean);
    if (parts.length === 0) throw new ConfigError("TESSERA_MASTER_KEYS", "lists no key");
    return parts.map((p) => decodeMasterKey("TESSERA_MASTER_KEYS", p));
  }
  if (env.TESSERA_MASTER_KEY) return [decodeMasterKey("TESSERA_MASTER_KEY", env.TESSERA_MASTER_KEY)];
  return undefined;
}

function readUrl(env: Env, variable: string, protocols: string[]): string | undefined {
  const raw = env[variable];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, "is not a URL");
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(variable, `must start with ${protocols.map((p) => `${p}//`).join(" or ")}`);
  }
  return raw;
}

export function loadConfig(env: Env): Config {
  const nodeEnv = read(env, "NODE_ENV", z.enum(["development", "production", "test"]), "development");
  const port = read(env, "PORT", intIn(0, 65535), 3000);
  const publicUrl = (readUrl(env, "PUBLIC_URL", ["http:", "https:"]) ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const databaseUrl = readUrl(env, "DATABASE_URL", ["postgres:", "postgresql:"]);
  const redisUrl = readUrl(env, "REDIS_URL", ["redis:", "rediss:"]);
  const masterKeys = readMasterKeys(env);

  if (nodeEnv === "production") {
    if (!databaseUrl) throw new ConfigError("DATABASE_URL", "is required when NODE_ENV=production (the embedded database is for development)");
    if (!redisUrl) throw new ConfigError("REDIS_URL", "is required when NODE_ENV=production (the in-process fallbacks are single-instance)");
    if (!masterKeys) throw new ConfigError("TESSERA_MASTER_KEY", "is required when NODE_ENV=production (set TESSERA_MASTER_KEY or TESSERA_MASTER_KEYS)");
    if (!env.PUBLIC_URL) throw new ConfigError("PUBLIC_URL", "is required when NODE_ENV=production (it is the JWT issuer)");
  }

  return Object.freeze({
    nodeEnv,
    port,
    host: read(env, "HOST", z.string().min(1), "0.0.0.0"),
    publicUrl,
    dataDir: read(env, "DATA_DIR", z.string().min(1), ".tessera"),
    databaseUrl,
    redisUrl,
    masterKeys: masterKeys ? Object.freeze(masterKeys) : undefined,
    logLevel: read(env, "LOG_LEVEL", z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]), "info"),
    bodyLimitBytes: read(env, "BODY_LIMIT_BYTES", intIn(1024, 10 * 1024 * 1024), 64 * 1024),
    passwordHashConcurrency: read(env, "PASSWORD_HASH_CONCURRENCY", intIn(1, 64), 2),
    passwordHashQueueLimit: read(env, "PASSWORD_HASH_QUEUE_LIMIT", intIn(0, 100_000), 256),
    shutdownTimeoutMs: read(env, "SHUTDOWN_TIMEOUT_MS", intIn(0, 600_000), 10_000),
    databaseTimeoutMs: read(env, "DATABASE_TIMEOUT_MS", intIn(100, 600_000), 2_000),
    metricsToken: read(env, "METRICS_TOKEN", MetricsToken, undefined as string | undefined),
    trustProxyHeader: read(env, "TRUST_PROXY", z.string().regex(/^[A-Za-z0-9-]+$/, "must be a header name, e.g. x-forwarded-for").transform((h) => h.toLowerCase()), undefined as string | undefined),
  });
}
