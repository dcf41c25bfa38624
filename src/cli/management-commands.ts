import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { pino } from "pino";
import type { Config } from "../config.js";
import { createDeps } from "../deps.js";
import { createLogger } from "../logger.js";
import { adminKeyFor, runningServerAdminUrl } from "../management/discovery.js";
import { createLocalManagement } from "../management/local.js";
import { EVENTS_LIMIT, type Management } from "../management/management.js";
import { createRemoteManagement } from "../management/remote.js";
import { SETTING_NAMES } from "../domain/project-settings.js";
import type { RbacPolicy } from "../domain/rbac.js";
import { output, UsageError } from "./output.js";
import { importUsersFile } from "./users-import.js";

/** One-off commands (key generation, re-encrypting every key) may take longer than a request may. */
export const CLI_DATABASE_TIMEOUT_MS = 60_000;

/**
 * Runs `work` against the running server's management API when there is one (TESSERA_ADMIN_URL, or
 * the server announced in DATA_DIR), so every verb works while the embedded server holds its
 * database; else in-process, straight on the database.
 */
async function withManagement<T>(config: Config, json: boolean, work: (management: Management) => Promise<T>): Promise<T> {
  const url = config.adminUrl ?? runningServerAdminUrl(config.dataDir);
  if (url) {
    const adminKey = adminKeyFor(config, { create: false });
    if (!adminKey) throw new UsageError(`a server is running (${url}) but no admin key was found: set TESSERA_ADMIN_KEY, or run the CLI with the server's DATA_DIR`);
    return work(createRemoteManagement({ url, adminKey }));
  }
  // Commands log to stderr, so stdout stays parseable. Under --json, stderr holds only the error
  // document: a warning line before it (a slow Redis subscription, say) broke every JSON reader.
  const logger = createLogger({ level: json ? "silent" : "warn", destination: pino.destination(2) });
  const deps = await createDeps(config, { logger, databaseTimeoutMs: CLI_DATABASE_TIMEOUT_MS });
  try {
    return await work(createLocalManagement(deps, "cli"));
  } finally {
    await deps.close();
  }
}

/** `--set name=value`: dotted names for nested settings; the value as JSON when it parses, else as a string. */
export function settingsFromAssignments(assignments: string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set takes name=value (got "${assignment}"); settings: ${SETTING_NAMES.join(", ")}`);
    const path = assignment.slice(0, eq).split(".");
    const raw = assignment.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let target = patch;
    for (const key of path.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
    target[path.at(-1)!] = value;
  }
  return patch;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function describePolicy(policy: RbacPolicy): string {
  const resources = policy.resources.map((r) => `  ${r.resource_id}: ${r.actions.join(", ") || "(no actions)"}${r.description ? `  — ${r.description}` : ""}`);
  const roles = policy.roles.map((r) => `  ${r.role_id}: ${r.permissions.map((p) => `${p.resource_id} [${p.actions.join(", ")}]`).join("; ") || "(no permissions)"}`);
  return ["resources", ...(resources.length ? resources : ["  (none)"]), "roles", ...roles].join("\n");
}

export function registerManagementCommands(program: Command, config: () => Config): void {
  const json = () => new Option("--json", "print one JSON document (errors too, on stderr)");
  const projectOption = () => new Option("--project <project_id>", "the project").makeOptionMandatory();
  const run = <O extends { json?: boolean }>(action: (management: Management, opts: O) => Promise<{ data: unknown; human: string }>) => async (opts: O) => {
    const { data, human } = await withManagement(config(), !!opts.json, (management) => action(management, opts));
    output(!!opts.json, data, human);
  };
  const lines = (record: object) => Object.entries(record).map(([k, v]) => `${k.padEnd(13)} ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");

  const projects = program.command("projects").description("manage projects and their settings");
  projects
    .command("create")
    .description("a project with one secret, one public token and one signing key")
    .requiredOption("--name <name>", "project name")
    .option("--live", "a live project (ids project-live-…); default test")
    .option("--set <name=value>", `a setting (repeatable): ${SETTING_NAMES.join(", ")}`, collect, [])
    .addOption(json())
    .action(
      run<{ name: string; live?: boolean; set: string[]; json?: boolean }>(async (m, opts) => {
        const created = await m.createProject({ name: opts.name, live: !!opts.live, ...(opts.set.length ? { settings: settingsFromAssignments(opts.set) } : {}) });
        return { data: created, human: `${lines(created)}\n(the secret is shown only now)` };
      }),
    );
  projects
    .command("list")
    .addOption(json())
    .action(run(async (m) => {
      const list = await m.listProjects();
      return { data: list, human: list.map((p) => `${p.project_id}  ${p.name}`).join("\n") || "no projects" };
    }));
  projects
    .command("show")
    .description("a project and every setting")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const project = await m.showProject(opts.project);
      return { data: project, human: `${lines({ ...project, settings: undefined })}\nsettings\n${JSON.stringify(project.settings, null, 2)}`.replace(/^settings\s+undefined\n/m, "") };
    }));
  projects
    .command("update")
    .description("rename a project or change settings; validated whole (a bad value changes nothing), audited, in effect on every instance at once")
    .addOption(projectOption())
    .option("--name <name>", "a new name")
    .option("--set <name=value>", `a setting (repeatable; dotted names for nested ones, values as JSON or plain strings): ${SETTING_NAMES.join(", ")}`, collect, [])
    .option("--allow-origin <origin>", "add a browser origin to allowedOrigins (repeatable)", collect, [])
    .addOption(json())
    .action(
      run<{ project: string; name?: string; set: string[]; allowOrigin: string[]; json?: boolean }>(async (m, opts) => {
        const settings = settingsFromAssignments(opts.set);
        if (opts.allowOrigin.length) {
          const current = (await m.showProject(opts.project)).settings.allowedOrigins as string[];
          settings.allowedOrigins = [...new Set([...((settings.allowedOrigins as string[] | undefined) ?? current), ...opts.allowOrigin])];
        }
        if (!opts.name && Object.keys(settings).length === 0) throw new UsageError("nothing to change: give --name, --set name=value or --allow-origin");
        const updated = await m.updateProject(opts.project, { ...(opts.name ? { name: opts.name } : {}), ...(Object.keys(settings).length ? { settings } : {}) });
        return { data: updated, human: updated.changed.length ? `changed ${updated.changed.join(", ")}` : "nothing changed" };
      }),
    );

  const secrets = program.command("secrets").description("manage project secrets");
  secrets
    .command("create")
    .description("a further live secret, for rotation without downtime")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const created = await m.createSecret(opts.project);
      return { data: created, human: `secret_id ${created.secret_id}\nsecret    ${created.secret}\n(the secret is shown only now)` };
    }));
  secrets
    .command("revoke")
    .addOption(projectOption())
    .requiredOption("--secret-id <secret_id>", "the secret to revoke")
    .addOption(json())
    .action(run<{ project: string; secretId: string; json?: boolean }>(async (m, opts) => {
      const revoked = await m.revokeSecret(opts.project, opts.secretId);
      return { data: revoked, human: `revoked ${opts.secretId}` };
    }));

  program
    .command("public-tokens")
    .description("manage public tokens")
    .command("create")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const created = await m.createPublicToken(opts.project);
      return { data: created, human: `public_token ${created.public_token}` };
    }));

  const keys = program.command("keys").description("signing keys: list, rotate, re-encrypt");
  keys
    .command("list")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const list = await m.listKeys(opts.project);
      return { data: list, human: list.map((k) => `${k.kid}  ${k.alg.padEnd(5)}  ${k.state.padEnd(8)}  created ${k.created_at}${k.activate_at && k.state === "next" ? `  signs from ${k.activate_at}` : ""}`).join("\n") };
    }));
  keys
    .command("rotate")
    .addOption(projectOption())
    .option("--now", "leak response: sign with a new key at once and retire every older key")
    .addOption(json())
    .action(run<{ project: string; now?: boolean; json?: boolean }>(async (m, opts) => {
      const rotated = await m.rotateKeys(opts.project, { now: !!opts.now });
      return { data: rotated, human: rotated.moves.map((move) => `${move.kid} → ${move.to}`).join("\n") };
    }));
  keys
    .command("reencrypt")
    .description("seal every private key and every stored session token under the first key of TESSERA_MASTER_KEYS")
    .addOption(json())
    .action(run(async (m) => {
      const result = await m.reencryptKeys();
      return { data: result, human: `re-encrypted ${result.reencrypted} signing keys and ${result.session_tokens} session tokens under the first master key${result.session_tokens_unreadable ? ` (${result.session_tokens_unreadable} session tokens did not open and were left as they were)` : ""}` };
    }));

  const rbac = program.command("rbac").description("the project's RBAC policy (Stytch's consumer format): roles, resources, actions");
  rbac
    .command("show")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const shown = await m.showRbacPolicy(opts.project);
      return { data: shown, human: describePolicy(shown.policy) };
    }));
  rbac
    .command("set")
    .description("replace the policy with a JSON file ({roles, resources}); validated whole (a bad file changes nothing), audited, in effect at once")
    .addOption(projectOption())
    .requiredOption("--file <policy.json>", "the policy as JSON")
    .addOption(json())
    .action(run<{ project: string; file: string; json?: boolean }>(async (m, opts) => {
      const set = await m.setRbacPolicy(opts.project, readJsonFile(opts.file));
      return { data: set, human: `policy set: ${set.policy.roles.length} roles, ${set.policy.resources.length} resources\n${describePolicy(set.policy)}` };
    }));

  program
    .command("events")
    .description("the audit log: logins, lockouts, sessions, passwords, settings, secrets, keys (newest first)")
    .addOption(projectOption())
    .option("--user <user_id>", "only this user's events")
    .option("--limit <n>", `how many, 1 to ${EVENTS_LIMIT.max}`, String(EVENTS_LIMIT.default))
    .addOption(json())
    .action(run<{ project: string; user?: string; limit: string; json?: boolean }>(async (m, opts) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > EVENTS_LIMIT.max) throw new UsageError(`--limit must be an integer from 1 to ${EVENTS_LIMIT.max}`);
      const rows = await m.listEvents(opts.project, { userId: opts.user, limit });
      return { data: rows, human: rows.map((e) => `${e.at}  ${e.type.padEnd(17)} ${e.user_id ?? "-"}  ${e.ip ?? "-"}  ${JSON.stringify(e.details)}`).join("\n") || "no events" };
    }));

  const trusted = program.command("trusted-tokens").description("trusted token profiles: issuers whose JWTs sessions.attest exchanges for sessions");
  trusted
    .command("create")
    .addOption(projectOption())
    .requiredOption("--name <name>", "a name for the profile")
    .requiredOption("--issuer <iss>", "the tokens' iss, exactly")
    .requiredOption("--audience <aud>", "an aud the tokens must carry")
    .requiredOption("--jwks-url <url>", "the issuer's JWKS (https; plain http only on localhost)")
    .option("--attribute-mapping <json>", 'which claims hold which attributes, e.g. {"email":"mail","token_id":"jti"} (defaults: email, jti)')
    .option("--can-jit-provision", "create a user for an email no user has yet")
    .addOption(json())
    .action(
      run<{ project: string; name: string; issuer: string; audience: string; jwksUrl: string; attributeMapping?: string; canJitProvision?: boolean; json?: boolean }>(async (m, opts) => {
        let mapping: Record<string, unknown> | undefined;
        if (opts.attributeMapping !== undefined) {
          try {
            mapping = JSON.parse(opts.attributeMapping) as Record<string, unknown>;
          } catch {
            throw new UsageError("--attribute-mapping takes a JSON object, e.g. '{\"email\":\"mail\"}'");
          }
        }
        const created = await m.createTrustedTokenProfile(opts.project, { name: opts.name, issuer: opts.issuer, audience: opts.audience, jwks_url: opts.jwksUrl, attribute_mapping: mapping, can_jit_provision: !!opts.canJitProvision });
        return { data: created, human: lines(created) };
      }),
    );
  trusted
    .command("list")
    .addOption(projectOption())
    .addOption(json())
    .action(run<{ project: string; json?: boolean }>(async (m, opts) => {
      const list = await m.listTrustedTokenProfiles(opts.project);
      return { data: list, human: list.map((p) => `${p.profile_id}  ${p.name}  ${p.issuer}  ${p.jwks_url}${p.can_jit_provision ? "  jit" : ""}`).join("\n") || "no trusted token profiles" };
    }));
  trusted
    .command("delete")
    .addOption(projectOption())
    .requiredOption("--profile-id <profile_id>", "the profile to delete")
    .addOption(json())
    .action(run<{ project: string; profileId: string; json?: boolean }>(async (m, opts) => {
      const deleted = await m.deleteTrustedTokenProfile(opts.project, opts.profileId);
      return { data: deleted, human: `deleted ${opts.profileId}` };
    }));
  program
    .command("users")
    .description("users: bulk import")
    .command("import")
    .description("import users with password hashes from a JSONL file (passwords.migrate's fields per line); re-running it creates no duplicates")
    .addOption(projectOption())
    .requiredOption("--file <path>", "the JSONL file")
    .addOption(json())
    .action(run<{ project: string; file: string; json?: boolean }>(async (m, opts) => {
      const report = await importUsersFile(m, opts.project, opts.file, (r) =>
        process.stderr.write(`${r.lines} lines: ${r.created} created, ${r.updated} updated, ${r.already_present} already present, ${r.rejected.length} rejected (${r.seconds.toFixed(1)} s)\n`),
      );
      const summary = `${report.lines} lines in ${report.seconds.toFixed(1)} s: ${report.created} created, ${report.updated} updated, ${report.already_present} already present, ${report.rejected.length} rejected`;
      return { data: report, human: [summary, ...report.rejected.map((r) => `line ${r.line}: ${r.error_type}: ${r.error_message}`)].join("\n") };
    }));
}
