import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ConfigError, loadConfig } from "../config.js";
import { VaultError } from "../crypto/vault.js";
import { TesseraError } from "../errors.js";
import { openDatabase } from "../store/db.js";
import { CLI_DATABASE_TIMEOUT_MS, registerManagementCommands } from "./management-commands.js";
import { output, UsageError } from "./output.js";

type Env = Record<string, string | undefined>;

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export async function runCli(argv: string[], env: Env): Promise<number> {
  const config = () => loadConfig(env);
  const program = new Command("tessera").description("Self-hostable session server (Stytch wire format)").version(VERSION).showHelpAfterError();
  program.exitOverride();

  program
    .command("serve")
    .description("run the HTTP server (PORT, DATABASE_URL, REDIS_URL, …: see the README's configuration table)")
    .action(async () => {
      const cfg = config();
      if (cfg.webConcurrency > 1) await (await import("../cluster.js")).serveCluster(cfg);
      else await (await import("../main.js")).serve(cfg);
    });

  program
    .command("migrate")
    .description("apply pending database migrations (also done at every start)")
    .addOption(new Option("--json", "print one JSON document"))
    .action(async (opts: { json?: boolean }) => {
      const cfg = config();
      const database = await openDatabase({ databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, timeoutMs: CLI_DATABASE_TIMEOUT_MS });
      try {
        await database.migrate();
      } finally {
        await database.close();
      }
      output(!!opts.json, { migrated: true, database: database.kind }, `migrations applied (${database.kind})`);
    });

  registerManagementCommands(program, config);

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof Error && "exitCode" in error && typeof error.exitCode === "number") return error.exitCode; // commander: help, version, usage
    const known = error instanceof ConfigError || error instanceof VaultError || error instanceof UsageError || error instanceof TesseraError;
    const message = error instanceof Error ? error.message : String(error);
    const type = error instanceof TesseraError ? error.type : error instanceof ConfigError || error instanceof VaultError ? "invalid_configuration" : known ? "usage" : "internal_error";
    // Under --json a failure is JSON too, on stderr: stdout only ever holds a result.
    process.stderr.write(argv.includes("--json") ? `${JSON.stringify({ error: { type, message } })}\n` : `tessera: ${message}\n`);
    return 1;
  }
}
