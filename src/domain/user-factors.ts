import { TesseraError } from "../errors.js";
import { DuplicateEmailError, type DomainDeps, type Store } from "./ports.js";
import { newId } from "./tokens.js";
import type { AuditEvent, Project, User } from "./types.js";
import { withLockState } from "./login-throttle.js";
import { normalizeEmail } from "./users.js";

/**
 * Stytch's routes that take a factor off a user or swap it: exchange_primary_factor, and the deletes of
 * an email, a password, an external id. Each change and its event are one transaction; a change the
 * session JWTs could show is a `user.updated` on the revocation feed, so verifiers drop older JWTs.
 */
type FactorDeps = Pick<DomainDeps, "store" | "clock" | "feed" | "limiter">;

async function change(deps: FactorDeps, project: Project, userId: string, work: (store: Store, now: Date) => Promise<AuditEvent["details"]>): Promise<User> {
  const user = await deps.store.transaction(async (store) => {
    const now = deps.clock.now();
    const details = await work(store, now);
    const changed = await store.users.get(project.projectId, userId);
    if (!changed) throw new TesseraError("user_not_found");
    await store.events.record({ projectId: project.projectId, type: "user.updated", userId, actor: "api", details });
    return changed;
  });
  deps.feed.notify(project.projectId); // after the commit: readers must find the rows
  return (await withLockState(deps, project, [user]))[0]!;
}

/**
 * PUT /v1/users/:user_id/exchange_primary_factor: the user's email replaced by another (new email id,
 * unverified). Tessera's users have at most one email and no phone, so the "exactly one factor" rule
 * always holds; a user whose email was deleted gets one back this way.
 */
export async function exchangePrimaryFactor(deps: FactorDeps, project: Project, userId: string, input: { emailAddress?: string | undefined; phoneNumber?: string | undefined }): Promise<User> {
  if (input.phoneNumber !== undefined) throw new TesseraError("invalid_exchange_primary_factor_fields", { message: "Tessera users have no phone numbers: exchange for an email_address." });
  if (input.emailAddress === undefined) throw new TesseraError("invalid_exchange_primary_factor_fields");
  const email = normalizeEmail(input.emailAddress);
  try {
    return await change(deps, project, userId, async (store, now) => {
      if (!(await store.users.setEmail(project.projectId, userId, { email, emailId: newId("email", project.env) }, now))) throw new TesseraError("user_not_found");
      return { fields: ["email"], method: "exchange_primary_factor" };
    });
  } catch (error) {
    if (error instanceof DuplicateEmailError) throw new TesseraError("duplicate_email");
    throw error;
  }
}

/** DELETE /v1/users/emails/:email_id. The password stays, unusable for logins until the user has an email again. */
export async function deleteEmail(deps: FactorDeps, project: Project, emailId: string): Promise<User> {
  const owner = await deps.store.users.findByEmailId(project.projectId, emailId);
  if (!owner) throw new TesseraError("email_not_found");
  return change(deps, project, owner.userId, async (store, now) => {
    if (!(await store.users.setEmail(project.projectId, owner.userId, null, now, emailId))) throw new TesseraError("email_not_found");
    return { fields: ["email"], email_id: emailId };
  });
}

/** DELETE /v1/users/passwords/:password_id. The user's sessions stay alive: they were proven already. */
export async function deletePassword(deps: FactorDeps, project: Project, passwordId: string): Promise<User> {
  const owner = await deps.store.users.findByPasswordId(project.projectId, passwordId);
  if (!owner) throw new TesseraError("password_not_found");
  return change(deps, project, owner.userId, async (store) => {
    if (!(await store.users.deletePassword(owner.userId, passwordId))) throw new TesseraError("password_not_found");
    await store.events.record({ projectId: project.projectId, type: "password.deleted", userId: owner.userId, actor: "api", details: { password_id: passwordId } });
    return { fields: ["password"] };
  });
}

/** DELETE /v1/users/:user_id/external_id. */
export async function deleteExternalId(deps: FactorDeps, project: Project, userId: string): Promise<User> {
  return change(deps, project, userId, async (store, now) => {
    if (!(await store.users.update(project.projectId, userId, { externalId: null }, now))) throw new TesseraError("user_not_found");
    return { fields: ["external_id"] };
  });
}
