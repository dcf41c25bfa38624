import { randomBytes } from "node:crypto";
import postgres from "postgres";

/**
 * A database of its own for one soak, dropped afterwards. A small copy of test/helpers.ts'
 * createTestDatabase rather than an import of it: the bench should not move when the test helpers
 * do, and the `tessera_soak_` prefix makes a leftover (after a SIGKILL) easy to spot and attribute.
 */
export async function createSoakDatabase(baseUrl: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `tessera_soak_${randomBytes(6).toString("hex")}`;
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
