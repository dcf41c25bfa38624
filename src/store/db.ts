import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { lockDataDir } from "./data-dir-lock.js";
import { assertReachable, FIRST_CONTACT_TIMEOUT_MS } from "./first-contact.js";
import * as schema from "./schema.js";

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * Runs one parameterised statement, prepared once per connection, and answers its rows as arrays in
 * select order, with the driver's own type parsing (timestamptz as Date, jsonb parsed).
 */
export type RowQuery = (text: string, params: readonly unknown[]) => Promise<unknown[][]>;

export interface DatabaseHandle {
  db: Database;
  /**
   * The exchange's session reads, without drizzle (store/session-repo.ts). On Postgres a pool of its
   * own, small so that concurrent reads are pipelined on few connections (postgres.js sends a query
   * on a busy connection when none is idle): fewer writes, wakeups and backends per read. Apart from
   * `db`, so a long transaction or a slow search never holds a connection those reads wait for.
   * PGlite has one connection, shared with `db`.
   */
  sessionReads: RowQuery;
  kind: "postgres" | "pglite";
  /** Applies pending migrations; safe to run on every start and from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** src/store/db.ts and dist/store/db.js both sit two folders below the package root. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));
/** Arbitrary constant naming Tessera's migration lock among other advisory locks. */
const MIGRATION_LOCK_ID = 7_250_311_001;

/** Real Postgres when `databaseUrl` is set; else PGlite in `dataDir` (or in memory when `dataDir` is null). */
export async function openDatabase(options: { databaseUrl?: string | undefined; dataDir: string | null; poolSize?: number; timeoutMs: number }): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10, options.timeoutMs);
  return openPglite(options.dataDir);
}

/**
 * Waiting is bounded on the server as well as in the client (store/bounded-store.ts): a statement
 * runs at most `timeoutMs`, a lock wait a quarter of it (a locked table fails cleanly, 55P03, long before the
 * client gives up), a transaction left idle is ended (it would hold locks and hold back the feed), a
 * connection attempt gives up after `timeoutMs`, and reconnects retry every 200 ms instead of
 * postgres.js's growing backoff (up to 20 s), so recovery follows the database within a moment.
 */
/** Measured on 2 cores at 32 exchanges in flight: 2 connections beat 4 and 10 (README, Performance). */
export const SESSION_READ_POOL_SIZE = 2;

function openPostgres(url: string, poolSize: number, timeoutMs: number): DatabaseHandle {
  const open = (max: number) => postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: timeoutMs / 1000,
    backoff: () => 0.2,
    connection: {
      application_name: "tessera",
      statement_timeout: timeoutMs,
      lock_timeout: Math.ceil(timeoutMs / 4),
      idle_in_transaction_session_timeout: Math.max(5_000, timeoutMs * 2),
    },
  });
  const client = open(poolSize);
  const readClient = open(SESSION_READ_POOL_SIZE);
  return {
    db: drizzlePostgres(client, { schema }) as unknown as Database,
    // Never wrapped in drizzle, which would swap the client's timestamp parsers for its own.
    sessionReads: (text, params) => readClient.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).values(),
    kind: "postgres",
    async migrate() {
      // One connection holds the lock for the whole run, so concurrent starts apply migrations once.
      const locker = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: FIRST_CONTACT_TIMEOUT_MS / 1000 });
      try {
        await assertReachable(locker, url);
      } catch (error) {
        await locker.end({ timeout: 0 }); // a connection that never answered has nothing to finish
        throw error;
      }
      try {
        await locker`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migratePostgres(drizzlePostgres(locker), { migrationsFolder: MIGRATIONS_FOLDER });
        await locker`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
      } finally {
        await locker.end({ timeout: 5 });
      }
    },
    close: async () => {
      await Promise.all([client.end({ timeout: 5 }), readClient.end({ timeout: 5 })]);
    },
  };
}

async function openPglite(dataDir: string | null): Promise<DatabaseHandle> {
  let client: PGlite;
  // PGlite is single-process: DATA_DIR is locked before it opens, and released only once it closed.
  const lock = dataDir ? await lockDataDir(dataDir) : null;
  try {
    if (dataDir) {
      const folder = join(dataDir, "pgdata");
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      client = await PGlite.create(folder);
    } else {
      client = await PGlite.create();
    }
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzlePglite(client, { schema });
  return {
    db: db as unknown as Database,
    sessionReads: async (text, params) => (await client.query<unknown[]>(text, params as unknown[], { rowMode: "array" })).rows,
    kind: "pglite",
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`select 1`);
}
