import { z } from "zod";
import { TesseraError } from "../errors.js";
import { HASH_LIMITS, storedFormOf } from "./imported-hash.js";
import { DuplicateEmailError, type DomainDeps, type Store } from "./ports.js";
import { newId } from "./tokens.js";
import type { AuditEvent, Project, RequestContext, User } from "./types.js";
import { newUserRecord, normalizeEmail } from "./users.js";

/**
 * Stytch's passwords.migrate (one user) and `tessera users import` (many): a user with a password hash
 * made elsewhere. A new email creates the user with the request's profile; an existing one gets the
 * hash (migrate replaces a password it has; import leaves a user that already has a password alone,
 * so re-running a file changes nothing). Users, passwords and their events go in one transaction per call.
 */

const Salt = z.string().max(1024);
const Int = z.number().int();
const SaltConfig = z.object({ prepend_salt: Salt.optional(), append_salt: Salt.optional() });

/** The request, as the official client's PasswordsMigrateRequest names it; also one line of an import file. */
export const MigrateRequest = z.object({
  email: z.string().max(1024),
  hash: z.string().max(HASH_LIMITS.maxHashLength),
  hash_type: z.string().max(32),
  md_5_config: SaltConfig.optional(),
  sha_1_config: SaltConfig.optional(),
  sha_512_config: SaltConfig.optional(),
  argon_2_config: z.object({ salt: Salt, iteration_amount: Int, memory: Int, threads: Int, key_length: Int }).optional(),
  scrypt_config: z.object({ salt: Salt, n_parameter: Int, r_parameter: Int, p_parameter: Int, key_length: Int }).optional(),
  pbkdf_2_config: z.object({ salt: Salt, iteration_amount: Int, key_length: Int, algorithm: z.string().max(16).optional() }).optional(),
  trusted_metadata: z.record(z.string(), z.unknown()).optional(),
  untrusted_metadata: z.record(z.string(), z.unknown()).optional(),
  set_email_verified: z.boolean().optional(),
  name: z.object({ first_name: z.string().max(256).optional(), middle_name: z.string().max(256).optional(), last_name: z.string().max(256).optional() }).optional(),
  phone_number: z.string().max(64).optional(),
  set_phone_number_verified: z.boolean().optional(),
  external_id: z.string().max(128).optional(),
  roles: z.array(z.string().min(1).max(128)).max(100).optional(),
});
export type MigrateRequest = z.infer<typeof MigrateRequest>;

/** Most lines one import call takes (the CLI sends 500). */
export const IMPORT_BATCH_LIMIT = 1000;

interface Prepared {
  record: Omit<User, "passwordId" | "passwordRequiresReset">;
  storedHash: string;
  setEmailVerified: boolean;
}

export type MigrationOutcome = { status: "created" | "updated" | "already_present"; user: User };

/** Checks one request whole (email, profile, hash and config) before anything is written. */
function prepare(project: Project, request: MigrateRequest, now: Date): Prepared {
  if (request.phone_number) throw new TesseraError("bad_request", { message: "phone_number: Tessera stores no phone numbers; leave it out." });
  const storedHash = storedFormOf(request);
  const record = newUserRecord(
    project,
    {
      email: normalizeEmail(request.email),
      name: request.name,
      trustedMetadata: request.trusted_metadata,
      untrustedMetadata: request.untrusted_metadata,
      externalId: request.external_id,
      roles: request.roles,
      emailVerified: request.set_email_verified,
    },
    now,
  );
  return { record, storedHash, setEmailVerified: request.set_email_verified === true };
}

const emailKey = (email: string | null) => (email ?? "").toLowerCase();

/** One transaction: reads the batch's existing users once, inserts the new ones in bulk, records every event. */
async function apply(deps: Pick<DomainDeps, "store" | "clock">, project: Project, batch: Prepared[], options: { overwrite: boolean; actor: string; context?: RequestContext }): Promise<MigrationOutcome[]> {
  const now = deps.clock.now();
  return deps.store.transaction(async (store: Store) => {
    const existing = new Map((await store.users.findByEmails(project.projectId, batch.map((p) => p.record.email!))).map((e) => [emailKey(e.user.email), e]));
    const outcomes: MigrationOutcome[] = new Array(batch.length);
    const events: AuditEvent[] = [];
    const event = (type: AuditEvent["type"], userId: string): AuditEvent => ({ projectId: project.projectId, type, userId, actor: options.actor, ip: options.context?.ip, userAgent: options.context?.userAgent, details: { source: "password_migration" } });
    const creating: number[] = [];
    for (const [i, prepared] of batch.entries()) {
      const found = existing.get(emailKey(prepared.record.email));
      if (!found) {
        creating.push(i);
        continue;
      }
      if (found.passwordHash !== null && !options.overwrite) {
        outcomes[i] = { status: "already_present", user: found.user };
        continue;
      }
      const passwordId = found.user.passwordId ?? newId("password", project.env);
      await store.users.setPassword(found.user.userId, { passwordId, hash: prepared.storedHash }, now);
      const verified = prepared.setEmailVerified && !found.user.emailVerified ? await store.users.update(project.projectId, found.user.userId, { emailVerified: true }, now) : null;
      outcomes[i] = { status: "updated", user: { ...(verified ?? found.user), passwordId, passwordRequiresReset: false } };
      events.push(event("password.migrated", found.user.userId));
    }
    const created = await store.users.createMany(creating.map((i) => ({ user: batch[i]!.record, password: { passwordId: newId("password", project.env), hash: batch[i]!.storedHash } })));
    for (const [k, user] of created.entries()) {
      outcomes[creating[k]!] = { status: "created", user };
      events.push(event("user.created", user.userId));
    }
    if (events.length) await store.events.recordMany(events);
    return outcomes;
  });
}

/** POST /v1/passwords/migrate. */
export async function migratePassword(deps: Pick<DomainDeps, "store" | "clock">, project: Project, request: MigrateRequest, context: RequestContext): Promise<MigrationOutcome> {
  const prepared = prepare(project, request, deps.clock.now());
  try {
    return (await apply(deps, project, [prepared], { overwrite: true, actor: "api", context }))[0]!;
  } catch (error) {
    // Created by someone else between our read and our insert: now it exists, so set its hash.
    if (!(error instanceof DuplicateEmailError)) throw error;
    return (await apply(deps, project, [prepared], { overwrite: true, actor: "api", context }))[0]!;
  }
}

export type ImportResult =
  | { line: number; status: MigrationOutcome["status"]; user_id: string }
  | { line: number; status: "rejected"; error_type: string; error_message: string };

/**
 * One batch of `tessera users import`: each line is checked alone (a bad line is rejected, the rest go
 * in), a second line with an email already in the batch is rejected, the valid ones are applied in one
 * transaction. Should another writer take an email meanwhile, the batch is redone line by line.
 */
export async function importUsers(deps: Pick<DomainDeps, "store" | "clock">, project: Project, lines: { line: number; user: unknown }[], actor: string): Promise<ImportResult[]> {
  if (lines.length > IMPORT_BATCH_LIMIT) throw new TesseraError("bad_request", { message: `At most ${IMPORT_BATCH_LIMIT} users per call.` });
  const now = deps.clock.now();
  const results: ImportResult[] = new Array(lines.length);
  const valid: { index: number; prepared: Prepared }[] = [];
  const seen = new Map<string, number>();
  for (const [index, { line, user }] of lines.entries()) {
    try {
      const parsed = MigrateRequest.safeParse(user);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new TesseraError("bad_request", { message: `${issue?.path.join(".") || "line"}: ${issue?.message ?? "invalid"}` });
      }
      const prepared = prepare(project, parsed.data, now);
      const earlier = seen.get(emailKey(prepared.record.email));
      if (earlier !== undefined) throw new TesseraError("duplicate_email", { message: `The email is also on line ${earlier}.` });
      seen.set(emailKey(prepared.record.email), line);
      valid.push({ index, prepared });
    } catch (error) {
      if (!(error instanceof TesseraError)) throw error;
      results[index] = { line, status: "rejected", error_type: error.type, error_message: error.message };
    }
  }
  const settle = (index: number, outcome: MigrationOutcome) => (results[index] = { line: lines[index]!.line, status: outcome.status, user_id: outcome.user.userId });
  try {
    const outcomes = await apply(deps, project, valid.map((v) => v.prepared), { overwrite: false, actor });
    outcomes.forEach((outcome, k) => settle(valid[k]!.index, outcome));
  } catch (error) {
    if (!(error instanceof DuplicateEmailError)) throw error;
    for (const { index, prepared } of valid) {
      try {
        settle(index, (await apply(deps, project, [prepared], { overwrite: false, actor }))[0]!);
      } catch (single) {
        if (!(single instanceof DuplicateEmailError)) throw single;
        results[index] = { line: lines[index]!.line, status: "rejected", error_type: "duplicate_email", error_message: "A user with this email was created meanwhile; run the import again." };
      }
    }
  }
  return results;
}
