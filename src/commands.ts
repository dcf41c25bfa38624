import { Command, Option } from "commander";
import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { VaultError } from "./crypto/vault.js";
import { createDeps } from "./deps.js";
import { addPublicToken, addSecret, createProject, revokeSecret } from "./domain/projects.js";
import { forceRotation, reencryptKeys } from "./domain/key-rotation.js";
import type { SigningKeyRecord } from "./domain/types.js";
import { createLogger } from "./logger.js";
import { openDatabase } from "./store/db.js";

type Env = Record<string, string | undefined>;

/** One-off commands (key generation, re-encrypting every key) may take longer than a request may. */
const CLI_DATABASE_TIMEOUT_MS = 60_000;

/** Every command prints a human line, or with --json one JSON document on stdout. */
function output(json: boolean, data: unknown, human: string) {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** Commands other than `serve` log to stderr, so stdout stays parseable. */
async function withDeps<T>(config: Config, work: (deps: Awaited<ReturnType<typeof createDeps>>) => Promise<T>): Promise<T> {
  const deps = await createDeps(config, { logger: createLogger({ level: "warn", destination: pino.destination(2) }), databaseTimeoutMs: CLI_DATABASE_TIMEOUT_MS });
  try {
    return await work(deps);
  } finally {
    await deps.close();
  }
}

async function requireProject(deps: Awaited<ReturnType<typeof createDeps>>, projectId: string) {
  const project = await deps.store.projects.get(projectId);
  if (!project) throw new UsageError(`no project ${projectId}`);
  return project;
}

class UsageError extends Error {}

const keyRow = (k: SigningKeyRecord) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt.toISOString(),
  activate_at: k.activateAt?.toISOString() ?? null,
  activated_at: k.activatedAt?.toISOString() ?? null,
  deactivated_at: k.deactivatedAt?.toISOString() ?? null,
  retired_at: k.retiredAt?.toISOString() ?? null,
});

export async function runCli(argv: string[], env: Env): Promise<number> {
  const config = () => loadConfig(env);
  const program = new Command("tessera").description("Self-hostable session server (Stytch wire format)").showHelpAfterError();
  program.exitOverride();
  const json = new Option("--json", "print one JSON document");

  program
    .command("serve")
    .description("run the HTTP server (PORT, DATABASE_URL, REDIS_URL, ...)")
    .action(async () => {
      const { serve } = await import("./main.js");
      await serve(config());
    });

  program
    .command("migrate")
    .description("apply pending database migrations")
    .addOption(json)
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

  const projects = program.command("projects").description("manage projects");
  projects
    .command("create")
    .requiredOption("--name <name>", "project name")
    .option("--live", "a live project (ids project-live-…); default test")
    .addOption(json)
    .action(async (opts: { name: string; live?: boolean; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const created = await createProject(deps, { name: opts.name, env: opts.live ? "live" : "test" });
        const data = { project_id: created.project.projectId, secret_id: created.secretId, secret: created.secret, public_token: created.publicToken };
        output(!!opts.json, data, Object.entries(data).map(([k, v]) => `${k.padEnd(13)} ${v}`).join("\n") + "\n(the secret is shown only now)");
      }),
    );
  projects
    .command("list")
    .addOption(json)
    .action(async (opts: { json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const list = (await deps.store.projects.list()).map((p) => ({ project_id: p.projectId, name: p.name, created_at: p.createdAt.toISOString() }));
        output(!!opts.json, list, list.map((p) => `${p.project_id}  ${p.name}`).join("\n") || "no projects");
      }),
    );

  const secrets = program.command("secrets").description("manage project secrets");
  secrets
    .command("create")
    .requiredOption("--project <project_id>")
    .addOption(json)
    .action(async (opts: { project: string; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const created = await addSecret(deps, await requireProject(deps, opts.project));
        output(!!opts.json, { project_id: opts.project, secret_id: created.secretId, secret: created.secret }, `secret_id ${created.secretId}\nsecret    ${created.secret}\n(the secret is shown only now)`);
      }),
    );
  secrets
    .command("revoke")
    .requiredOption("--project <project_id>")
    .requiredOption("--secret-id <secret_id>")
    .addOption(json)
    .action(async (opts: { project: string; secretId: string; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        if (!(await revokeSecret(deps, opts.project, opts.secretId))) throw new UsageError(`no live secret ${opts.secretId} in project ${opts.project}`);
        output(!!opts.json, { project_id: opts.project, secret_id: opts.secretId, revoked: true }, `revoked ${opts.secretId}`);
      }),
    );

  program
    .command("public-tokens")
    .description("manage public tokens")
    .command("create")
    .requiredOption("--project <project_id>")
    .addOption(json)
    .action(async (opts: { project: string; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const token = await addPublicToken(deps, await requireProject(deps, opts.project));
        output(!!opts.json, { project_id: opts.project, public_token: token }, `public_token ${token}`);
      }),
    );

  const keys = program.command("keys").description("signing keys: list, rotate, re-encrypt");
  keys
    .command("list")
    .requiredOption("--project <project_id>")
    .addOption(json)
    .action(async (opts: { project: string; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        await requireProject(deps, opts.project);
        const list = (await deps.store.signingKeys.listAll(opts.project)).map(keyRow);
        output(!!opts.json, list, list.map((k) => `${k.kid}  ${k.alg.padEnd(5)}  ${k.state.padEnd(8)}  created ${k.created_at}${k.activate_at && k.state === "next" ? `  signs from ${k.activate_at}` : ""}`).join("\n"));
      }),
    );
  keys
    .command("rotate")
    .requiredOption("--project <project_id>")
    .option("--now", "leak response: sign with a new key at once and retire every older key")
    .addOption(json)
    .action(async (opts: { project: string; now?: boolean; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const moves = await forceRotation(deps, await requireProject(deps, opts.project), { immediately: !!opts.now });
        output(!!opts.json, { project_id: opts.project, moves }, moves.map((m) => `${m.kid} → ${m.to}`).join("\n"));
      }),
    );
  keys
    .command("reencrypt")
    .description("seal every private key under the first key of TESSERA_MASTER_KEYS")
    .addOption(json)
    .action(async (opts: { json?: boolean }) =>
      withDeps(config(), async (deps) => {
        const count = await reencryptKeys(deps);
        output(!!opts.json, { reencrypted: count }, `re-encrypted ${count} signing keys under the first master key`);
      }),
    );

  program
    .command("events")
    .description("the audit log: logins, lockouts, sessions, passwords, secrets, keys (newest first)")
    .requiredOption("--project <project_id>")
    .option("--user <user_id>", "only this user's events")
    .option("--limit <n>", "how many", "100")
    .addOption(json)
    .action(async (opts: { project: string; user?: string; limit: string; json?: boolean }) =>
      withDeps(config(), async (deps) => {
        await requireProject(deps, opts.project);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError("--limit must be an integer from 1 to 10000");
        const rows = (await deps.store.events.list(opts.project, { limit, ...(opts.user ? { userId: opts.user } : {}) })).map((e) => ({
          event_id: e.eventId,
          at: e.at.toISOString(),
          type: e.type,
          user_id: e.userId ?? null,
          session_id: e.sessionId ?? null,
          actor: e.actor ?? null,
          ip: e.ip ?? null,
          user_agent: e.userAgent ?? null,
          details: e.details ?? {},
        }));
        output(!!opts.json, rows, rows.map((e) => `${e.at}  ${e.type.padEnd(17)} ${e.user_id ?? "-"}  ${e.ip ?? "-"}  ${JSON.stringify(e.details)}`).join("\n") || "no events");
      }),
    );

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    const known = error instanceof ConfigError || error instanceof VaultError || error instanceof UsageError;
    if (known) {
      process.stderr.write(`tessera: ${error.message}\n`);
      return 1;
    }
    if (error instanceof Error && "exitCode" in error && typeof error.exitCode === "number") return error.exitCode; // commander: help, usage
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
