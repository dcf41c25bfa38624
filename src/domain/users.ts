import { TesseraError } from "../errors.js";
import { assertJsonObject, mergeDeletingNulls } from "./json-objects.js";
import { DuplicateEmailError, type DomainDeps, type UserRepo, type UserSearch } from "./ports.js";
import { withLockState } from "./login-throttle.js";
import { revokeUserSessions } from "./sessions.js";
import { newId } from "./tokens.js";
import type { Project, RequestContext, User } from "./types.js";

export const METADATA_LIMITS = { maxBytes: 16 * 1024, maxDepth: 8 } as const;
/** RFC 5321 caps an address at 254 octets and its local part at 64; anything longer cannot be delivered. */
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;
/**
 * HTML's "valid e-mail address" (WHATWG, the rule of <input type=email>): ASCII atext before the @,
 * LDH labels of at most 63 characters after it; stricter in wanting a dot in the domain. No quoted
 * local parts, comments, address literals or raw Unicode (internationalised domains in xn-- form).
 */
const LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?";
const EMAIL = new RegExp(`^[a-zA-Z0-9.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})+$`);
const INVALID_EMAIL_MESSAGE =
  "The email address is invalid: use an address like name@example.com (before the @: ASCII letters, digits and .!#$%&'*+/=?^_`{|}~-; after it: a domain name), at most 254 characters.";

export function normalizeEmail(raw: string): string {
  const email = raw.trim();
  if (email.length > MAX_EMAIL_LENGTH || email.indexOf("@") > MAX_LOCAL_PART_LENGTH || !EMAIL.test(email)) {
    throw new TesseraError("invalid_email", { message: INVALID_EMAIL_MESSAGE });
  }
  return email;
}

// The shape check addresses had to pass before the rule above (one @, a dot in the domain, no spaces or controls).
const LOOKUP_SHAPE = /^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+\.[^\s@\u0000-\u001f\u007f]+$/u;

/**
 * What a login may look up: the typed address if it has that older shape, so accounts made before
 * the stricter rule keep logging in, and nothing Postgres cannot take (NUL, lone surrogates) reaches it.
 */
export function emailForLookup(raw: string): string | null {
  const email = raw.trim();
  return email.length <= MAX_EMAIL_LENGTH && LOOKUP_SHAPE.test(email) && email.isWellFormed() ? email : null;
}

/**
 * The one spelling an address is counted under (lockouts) and must match to log in. JavaScript and
 * Postgres lowercase a few letters differently ("İ", a final "Σ"), so the login lookup, which runs on
 * Postgres' lower(), is accepted only when the account's email has this same canonical form.
 */
export function canonicalEmail(raw: string): string {
  return raw.trim().toLowerCase().normalize("NFC");
}

export interface UserProfile {
  name?: { first_name?: string | undefined; middle_name?: string | undefined; last_name?: string | undefined } | undefined;
  trustedMetadata?: unknown;
  untrustedMetadata?: unknown;
  externalId?: string | undefined;
  roles?: string[] | undefined;
}

function checkedMetadata(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  assertJsonObject(value, METADATA_LIMITS, "invalid_metadata", what);
  return value;
}

type NewUserInput = UserProfile & { email?: string | undefined; pending?: boolean | undefined; emailVerified?: boolean | undefined };

/** The row of a new user, its input checked (email, metadata limits): what createUser and imports insert. */
export function newUserRecord(project: Project, input: NewUserInput, now: Date): Omit<User, "passwordId" | "passwordRequiresReset"> {
  const email = input.email === undefined ? null : normalizeEmail(input.email);
  const trusted = checkedMetadata(input.trustedMetadata, "trusted_metadata") ?? {};
  const untrusted = checkedMetadata(input.untrustedMetadata, "untrusted_metadata") ?? {};
  return {
    userId: newId("user", project.env),
    projectId: project.projectId,
    email,
    emailId: email ? newId("email", project.env) : null,
    emailVerified: input.emailVerified ?? false,
    firstName: input.name?.first_name ?? null,
    middleName: input.name?.middle_name ?? null,
    lastName: input.name?.last_name ?? null,
    status: input.pending ? "pending" : "active",
    roles: input.roles ?? [],
    trustedMetadata: mergeDeletingNulls({}, trusted),
    untrustedMetadata: mergeDeletingNulls({}, untrusted),
    externalId: input.externalId ?? null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Creates a user, with a password hash when given. A taken email is `duplicate_email`. */
export async function createUser(
  deps: Pick<DomainDeps, "store" | "clock">,
  project: Project,
  input: NewUserInput & { passwordHash?: string },
  context: RequestContext = {},
): Promise<User> {
  const record = newUserRecord(project, input, deps.clock.now());
  try {
    return await deps.store.transaction(async (store) => {
      const user = await store.users.create(record, input.passwordHash ? { passwordId: newId("password", project.env), hash: input.passwordHash } : undefined);
      await store.events.record({ projectId: project.projectId, type: "user.created", userId: user.userId, actor: "api", ip: context.ip, userAgent: context.userAgent });
      return user;
    });
  } catch (error) {
    if (error instanceof DuplicateEmailError) throw new TesseraError("duplicate_email");
    throw error;
  }
}

export async function getUser(deps: Pick<DomainDeps, "store" | "limiter" | "clock">, project: Project, userId: string): Promise<User> {
  const user = await deps.store.users.get(project.projectId, userId);
  if (!user) throw new TesseraError("user_not_found");
  return (await withLockState(deps, project, [user]))[0]!;
}

export async function updateUser(deps: Pick<DomainDeps, "store" | "clock" | "feed" | "limiter">, project: Project, userId: string, input: UserProfile): Promise<User> {
  const current = await getUser(deps, project, userId);
  const patch: Parameters<UserRepo["update"]>[2] = {};
  if (input.name) {
    if (input.name.first_name !== undefined) patch.firstName = input.name.first_name;
    if (input.name.middle_name !== undefined) patch.middleName = input.name.middle_name;
    if (input.name.last_name !== undefined) patch.lastName = input.name.last_name;
  }
  const trusted = checkedMetadata(input.trustedMetadata, "trusted_metadata");
  if (trusted) patch.trustedMetadata = mergeDeletingNulls(current.trustedMetadata, trusted);
  const untrusted = checkedMetadata(input.untrustedMetadata, "untrusted_metadata");
  if (untrusted) patch.untrustedMetadata = mergeDeletingNulls(current.untrustedMetadata, untrusted);
  if (patch.trustedMetadata) assertJsonObject(patch.trustedMetadata, METADATA_LIMITS, "invalid_metadata", "trusted_metadata");
  if (patch.untrustedMetadata) assertJsonObject(patch.untrustedMetadata, METADATA_LIMITS, "invalid_metadata", "untrusted_metadata");
  if (input.externalId !== undefined) patch.externalId = input.externalId;
  if (input.roles !== undefined) patch.roles = input.roles;
  const updated = await deps.store.transaction(async (store) => {
    const user = await store.users.update(project.projectId, userId, patch, deps.clock.now());
    if (!user) throw new TesseraError("user_not_found");
    await store.events.record({ projectId: project.projectId, type: "user.updated", userId, actor: "api", details: { fields: Object.keys(patch) } });
    return user;
  });
  // Verifiers treat this user's older JWTs as stale: new roles or metadata reach every app in seconds.
  deps.feed.notify(project.projectId);
  return (await withLockState(deps, project, [updated]))[0]!;
}

/** Deletes the user and revokes every session, in one transaction. */
export async function deleteUser(deps: Pick<DomainDeps, "store" | "clock" | "feed">, project: Project, userId: string): Promise<void> {
  await deps.store.transaction(async (store) => {
    if (!(await store.users.markDeleted(project.projectId, userId, deps.clock.now()))) throw new TesseraError("user_not_found");
    await revokeUserSessions({ ...deps, store }, project.projectId, userId, "user_deleted");
    await store.events.record({ projectId: project.projectId, type: "user.deleted", userId, actor: "api" });
  });
  deps.feed.notify(project.projectId); // after the commit: readers must find the rows
}

export const SEARCH_LIMIT = { default: 100, max: 1000 } as const;

export async function searchUsers(deps: Pick<DomainDeps, "store" | "limiter" | "clock">, project: Project, query: UserSearch) {
  const found = await deps.store.users.search(project.projectId, query);
  return { ...found, users: await withLockState(deps, project, found.users) };
}
