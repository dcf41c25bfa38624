import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { hash as bcryptHash } from "@node-rs/bcrypt";
import { pino } from "pino";
import { importUsersFile } from "../src/cli/users-import.js";
import { loadConfig } from "../src/config.js";
import { createDeps } from "../src/deps.js";
import { createProject } from "../src/domain/projects.js";
import { createLocalManagement } from "../src/management/local.js";

/** bcrypt cost 4: a real bcrypt string per user; 64 distinct hashes reused, since generating them is not what is measured. */
const BCRYPT_COST = 4;

/**
 * `tessera users import` of N generated users (JSONL, bcrypt hashes) through the local management
 * interface into a throwaway PGlite data folder, or the real Postgres when DATABASE_URL is set.
 */
export async function benchUsersImport(options: { users: number }): Promise<{ users: number; seconds: number; perSecond: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-bench-import-"));
  try {
    const hashes = await Promise.all(Array.from({ length: 64 }, (_, i) => bcryptHash(`password-${i}`, BCRYPT_COST)));
    const file = join(dataDir, "users.jsonl");
    const out = createWriteStream(file);
    const tag = randomBytes(4).toString("hex");
    for (let i = 0; i < options.users; i++) {
      const ok = out.write(`${JSON.stringify({ email: `user-${tag}-${i}@example.com`, hash: hashes[i % hashes.length], hash_type: "bcrypt", name: { first_name: `User ${i}` } })}\n`);
      if (!ok) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const config = loadConfig({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "silent", TESSERA_MASTER_KEY: randomBytes(32).toString("base64") });
    const deps = await createDeps(config, { logger: pino({ level: "silent" }), databaseTimeoutMs: 60_000 });
    try {
      const project = await createProject(deps, { name: "bench-import" });
      const report = await importUsersFile(createLocalManagement(deps, "bench"), project.project.projectId, file, () => {});
      if (report.created !== options.users) throw new Error(`imported ${report.created} of ${options.users}: ${JSON.stringify(report.rejected.slice(0, 3))}`);
      return { users: options.users, seconds: report.seconds, perSecond: options.users / report.seconds };
    } finally {
      await deps.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
