import type { Config } from "./config.js";
import { createArgon2Hasher } from "./crypto/argon2-hasher.js";
import type { Semaphore } from "./crypto/semaphore.js";
import { createTrustedJwks } from "./crypto/trusted-jwks.js";
import { createVault, loadOrCreateLocalMasterKey, VaultError } from "./crypto/vault.js";
import { systemClock } from "./domain/clock.js";
import { createSigningKeys } from "./domain/keys.js";
import { createPasswordStrength } from "./domain/password-strength.js";
import type { Clock, Store } from "./domain/ports.js";
import type { AppDeps } from "./http/app.js";
import { createDrain, type Drain } from "./http/drain.js";
import { createLogger } from "./logger.js";
import { adminKeyFor } from "./management/discovery.js";
import { countingFeedNotifier, countingRateLimiter } from "./metrics/instrumented.js";
import { createMetrics } from "./metrics/metrics.js";
import { redisState, signingKeyAges } from "./metrics/sources.js";
import { connectRedis, inProcessRedis } from "./redis/connection.js";
import { createInProcessFeedNotifier, createRedisFeedNotifier, PROJECT_CHANGES_CHANNEL } from "./redis/feed-notifier.js";
import { createRateLimiter } from "./redis/rate-limiter.js";
import { ensureDataDir } from "./store/data-dir-lock.js";
import { openDatabase, type DatabaseHandle } from "./store/db.js";
import { boundStore } from "./store/bounded-store.js";
import { createPostgresStore } from "./store/postgres-store.js";
import { cacheProjects } from "./store/project-cache.js";
import type { Options as Argon2Options } from "@node-rs/argon2";
import type { Logger as PinoLogger } from "pino";

export interface Deps extends AppDeps {
  config: Config;
  logger: PinoLogger;
  database: DatabaseHandle;
  hashing: Semaphore;
  /** The same database with a longer bound, for background duties (key rotation). */
  jobStore: Store;
  /** The management API's key; undefined: the management API is off (production without TESSERA_ADMIN_KEY). */
  adminKey: string | undefined;
  /** Begun by main on SIGTERM; the app sees it as `drain` (AppDeps). */
  drain: Drain;
  close(): Promise<void>;
}

export interface DepsOverrides {
  clock?: Clock;
  logger?: PinoLogger;
  /** PGlite in memory instead of DATA_DIR (tests). */
  inMemoryDatabase?: boolean;
  /** Weaker argon2 parameters (tests of the rehash upgrade). */
  argon2Params?: Argon2Options;
  /** Longer than a request's bound, for the CLI's one-off commands (key generation, re-encryption). */
  databaseTimeoutMs?: number;
  /** false: the migrations already ran (a cluster's primary runs them once, `prepareCluster`). */
  migrate?: boolean;
}

/** Database calls allowed to wait at once per process (10 connections); past it, 503 at once. */
const MAX_PENDING_DATABASE_CALLS = 512;
/**
 * How long an instance may reuse a project read (settings, live secrets, public tokens) when the change
 * notification cannot reach it (Redis down): otherwise a change takes effect everywhere at once.
 */
export const PROJECT_CACHE_TTL_MS = 2_000;
/** Background duties (key rotation over every project) may take longer than a request. */
const JOB_DATABASE_TIMEOUT_MS = 60_000;

/** THE composition root: the only place that builds infrastructure. Nothing else opens a connection. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const clock = overrides.clock ?? systemClock;
  const metrics = createMetrics();

  // Checked before anything writes there: an unusable DATA_DIR fails start-up naming it, never hangs.
  if (!config.masterKeys || (!config.databaseUrl && !overrides.inMemoryDatabase)) ensureDataDir(config.dataDir);
  const vault = createVault(masterKeysOf(config, logger));

  const timeoutMs = overrides.databaseTimeoutMs ?? config.databaseTimeoutMs;
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: overrides.inMemoryDatabase ? null : config.dataDir, timeoutMs });
  const unbounded = createPostgresStore(database.db, clock, database.sessionReads);
  const bounded = boundStore(unbounded, { deadlineMs: timeoutMs, maxPending: MAX_PENDING_DATABASE_CALLS });
  try {
    if (overrides.migrate !== false) await database.migrate();
    await assertMasterKeyOpensKeys(bounded, vault);
  } catch (error) {
    await database.close(); // an open pool would keep a failed start from ever exiting
    throw error;
  }

  const redisConnection = config.redisUrl ? connectRedis(config.redisUrl) : null;
  const redis = redisConnection ?? inProcessRedis;
  const feed = countingFeedNotifier(redisConnection ? createRedisFeedNotifier(redisConnection.client, logger) : createInProcessFeedNotifier(), metrics);
  const projectChanges = redisConnection ? createRedisFeedNotifier(redisConnection.client, logger, PROJECT_CHANGES_CHANNEL) : createInProcessFeedNotifier();
  const store = cacheProjects(bounded, { clock, ttlMs: PROJECT_CACHE_TTL_MS, changes: projectChanges });
  const hasher = await createArgon2Hasher({
    concurrency: config.passwordHashConcurrency,
    queueLimit: config.passwordHashQueueLimit,
    observer: { waited: metrics.observeHashWait, rejected: metrics.countHashRejection },
    ...(overrides.argon2Params ? { params: overrides.argon2Params } : {}),
  });
  const jobStore = boundStore(unbounded, { deadlineMs: Math.max(timeoutMs, JOB_DATABASE_TIMEOUT_MS), maxPending: MAX_PENDING_DATABASE_CALLS });
  metrics.watch({ hashing: hasher.semaphore, databaseCalls: { request: bounded, job: jobStore }, redisState: redisState(redis), signingKeyAges: signingKeyAges({ store, clock }) });

  return {
    config,
    logger,
    clock,
    database,
    store,
    jobStore,
    vault,
    redis,
    feed,
    limiter: countingRateLimiter(createRateLimiter(redisConnection?.client ?? null), metrics),
    hasher,
    hashing: hasher.semaphore,
    keys: createSigningKeys({ store, vault, clock }),
    strength: createPasswordStrength(),
    publicUrl: config.publicUrl,
    trustedJwks: createTrustedJwks(),
    adminKey: adminKeyFor(config, { create: true }),
    bodyLimitBytes: config.bodyLimitBytes,
    trustProxyHeader: config.trustProxyHeader,
    drain: createDrain(),
    metrics,
    metricsToken: config.metricsToken,
    async close() {
      await Promise.allSettled([feed.close(), projectChanges.close(), redis.close(), database.close()]);
    },
  };
}

/** The configured master keys, else DATA_DIR/master.key (generated on the first start). */
function masterKeysOf(config: Config, logger: PinoLogger): readonly Buffer[] {
  if (config.masterKeys) return config.masterKeys;
  const local = loadOrCreateLocalMasterKey(config.dataDir);
  if (local.created) logger.warn({ path: local.path }, "generated a development master key (mode 0600); set TESSERA_MASTER_KEY in production");
  return [local.key];
}

/**
 * What a cluster's primary does once, before it forks: the files a first start generates in DATA_DIR
 * (master key, admin key), which workers starting together would race to create, and the migrations,
 * which every worker would otherwise run. A wrong master key stops the start here, said once.
 */
export async function prepareCluster(config: Config, logger: PinoLogger): Promise<void> {
  if (!config.masterKeys) ensureDataDir(config.dataDir);
  const vault = createVault(masterKeysOf(config, logger));
  adminKeyFor(config, { create: true });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, timeoutMs: JOB_DATABASE_TIMEOUT_MS });
  try {
    await database.migrate();
    await assertMasterKeyOpensKeys(createPostgresStore(database.db, systemClock, database.sessionReads), vault);
  } finally {
    await database.close();
  }
}

/** A wrong master key is a start-up error naming the problem, not a crash at the first login. */
async function assertMasterKeyOpensKeys(store: Store, vault: ReturnType<typeof createVault>) {
  const sample = await store.signingKeys.newestCurrent();
  if (!sample) return;
  try {
    vault.decrypt(sample.privateKeyEncrypted, sample.kid);
  } catch (error) {
    const reason = error instanceof VaultError ? error.message : String(error);
    throw new VaultError(`the configured master key cannot open the stored signing keys: ${reason}. Check TESSERA_MASTER_KEY / TESSERA_MASTER_KEYS (or DATA_DIR/master.key).`);
  }
}
