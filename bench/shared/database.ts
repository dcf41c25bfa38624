import { randomBytes } from "node:crypto";
import postgres from "postgres";

/**
 * A database of its own for one bench or soak run, dropped afterwards. A small copy of test/helpers.ts'
 * createTestDatabase rather than an import of it: the bench should not move when the test helpers
 * do, and the prefix (`tessera_bench_`, `tessera_soak_`) makes a leftover (after a SIGKILL) easy to
 * spot and attribute.
 */
export async function createScratchDatabase(baseUrl: string, prefix: "tessera_bench_" | "tessera_soak_"): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}${randomBytes(6).toString("hex")}`;
  await withAdmin(baseUrl, (admin) => admin.unsafe(`create database ${name}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // `with (force)`: a connection the servers left behind must not keep the database alive.
    drop: () => withAdmin(baseUrl, (admin) => admin.unsafe(`drop database if exists ${name} with (force)`)),
  };
}

async function withAdmin(baseUrl: string, work: (admin: postgres.Sql) => Promise<unknown>): Promise<void> {
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await work(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
