import { TesseraError } from "../errors.js";
import { PASSWORD_LENGTH, type StrengthResult } from "./password-strength.js";
import type { DomainDeps } from "./ports.js";
import { authenticateSession, createSession, passwordFactor, requireLiveSession, revokeUserSessions, type IssuedSession, type SessionCredential } from "./sessions.js";
import { newId } from "./tokens.js";
import { contextOf } from "./sessions.js";
import { canonicalEmail, createUser, emailForLookup, normalizeEmail, type UserProfile } from "./users.js";
import type { Project, RequestContext, User } from "./types.js";
import { addMinutes } from "./clock.js";
import { loginAbandoned, loginFailed, loginSucceeded, reserveLoginAttempt } from "./login-throttle.js";

type PasswordDeps = Pick<DomainDeps, "store" | "clock" | "keys" | "publicUrl" | "hasher" | "strength" | "feed" | "limiter" | "vault">;

/** Stytch: resetting through a session needs a factor authenticated within the last 5 minutes. */
const SESSION_RESET_WINDOW_MINUTES = 5;

/** NFKC so that the same password typed on different keyboards hashes the same (NIST 800-63B 5.1.1.2). */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

export interface SessionRequest {
  durationMinutes?: number | undefined;
  customClaims?: unknown;
}

export function checkStrength(deps: Pick<DomainDeps, "strength">, password: string, email?: string): StrengthResult {
  return deps.strength.check(normalizePassword(password), email ? [email, ...email.split(/[@.+_-]/)] : []);
}

function requireStrong(deps: Pick<DomainDeps, "strength">, password: string, email: string | null): void {
  const result = checkStrength(deps, password, email ?? undefined);
  if (!result.validPassword) {
    const hint = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(" ");
    throw new TesseraError("weak_password", { message: `The password is too weak.${hint ? ` ${hint}` : ""}` });
  }
}

/** Refuse absurd input before it reaches argon2, so nobody can make the server hash megabytes. */
function boundedPassword(password: string): string {
  if (password.length > PASSWORD_LENGTH.max * 4) throw new TesseraError("weak_password", { message: `Passwords are at most ${PASSWORD_LENGTH.max} characters.` });
  return normalizePassword(password);
}

async function maybeSession(deps: PasswordDeps, project: Project, user: User, request: SessionRequest, context: RequestContext) {
  if (request.durationMinutes === undefined) return null;
  return createSession(deps, project, user, { durationMinutes: request.durationMinutes, factor: passwordFactor(deps.clock.now(), user), customClaims: request.customClaims, context });
}

/** POST /v1/passwords: a new user with a password, and a session when a duration is given. */
export async function createPasswordUser(
  deps: PasswordDeps,
  project: Project,
  input: UserProfile & SessionRequest & { email: string; password: string },
  context: RequestContext,
): Promise<{ user: User; issued: IssuedSession | null }> {
  const email = normalizeEmail(input.email);
  requireStrong(deps, input.password, email);
  const hash = await deps.hasher.hash(boundedPassword(input.password));
  const user = await createUser(deps, project, { ...input, email, passwordHash: hash }, context);
  return { user, issued: await maybeSession(deps, project, user, input, context) };
}

/**
 * Checks email and password. An unknown email, a user without a password and a wrong password
 * all cost one full argon2 verification and end in the same `unauthorized_credentials`.
 */
export async function verifyPassword(deps: PasswordDeps, project: Project, emailInput: string, password: string, context: RequestContext): Promise<User> {
  const candidate = boundedPassword(password);
  const attempt = await reserveLoginAttempt(deps, project, emailInput, context);
  let found: Awaited<ReturnType<typeof deps.store.users.findByEmailForLogin>>;
  let ok: boolean;
  try {
    const email = emailForLookup(emailInput);
    found = email ? await deps.store.users.findByEmailForLogin(project.projectId, email) : null;
    // Only a spelling counted under this account's lockout may open it (see canonicalEmail).
    if (found && canonicalEmail(found.user.email ?? "") !== canonicalEmail(emailInput)) found = null;
    ok = await deps.hasher.verify(found?.passwordHash ?? deps.hasher.dummyHash, candidate, password);
  } catch (error) {
    await loginAbandoned(deps, project, attempt); // no guess was checked
    throw error;
  }
  if (!ok || !found?.passwordHash) {
    await loginFailed(deps, project, attempt, context);
    await deps.store.events.record({ projectId: project.projectId, type: "login.failed", userId: found?.user.userId ?? null, ...contextOf(context), details: { method: "password" } });
    throw new TesseraError("unauthorized_credentials");
  }
  const upgraded = deps.hasher.needsRehash(found.passwordHash) ? await deps.hasher.hash(candidate) : null;
  await loginSucceeded(deps, project, attempt);
  await deps.store.transaction(async (store) => {
    if (upgraded) await store.users.setPassword(found.user.userId, { passwordId: found.user.passwordId ?? newId("password", project.env), hash: upgraded }, deps.clock.now());
    await store.events.record({ projectId: project.projectId, type: "login.succeeded", userId: found.user.userId, ...contextOf(context), details: { method: "password", ...(upgraded ? { rehashed: true } : {}) } });
  });
  return found.user;
}

/**
 * POST /v1/passwords/authenticate. With a session credential the password factor is added to that
 * session; else a session is started only when a duration is given (Stytch's consumer API).
 */
export async function authenticatePassword(
  deps: PasswordDeps,
  project: Project,
  input: SessionCredential & SessionRequest & { email: string; password: string },
  context: RequestContext,
): Promise<{ user: User; issued: IssuedSession | null }> {
  const user = await verifyPassword(deps, project, input.email, input.password, context);
  if (input.sessionToken !== undefined || input.sessionJwt !== undefined) {
    const { session } = await requireLiveSession(deps, project, input);
    if (session.userId !== user.userId) throw new TesseraError("session_user_mismatch");
    const issued = await authenticateSession(deps, project, { ...input, factor: passwordFactor(deps.clock.now(), user), context });
    return { user, issued };
  }
  return { user, issued: await maybeSession(deps, project, user, input, context) };
}

async function replacePassword(deps: PasswordDeps, project: Project, user: User, password: string, keepSessionId?: string): Promise<void> {
  requireStrong(deps, password, user.email);
  const hash = await deps.hasher.hash(boundedPassword(password));
  await deps.store.transaction(async (store) => {
    await store.users.setPassword(user.userId, { passwordId: user.passwordId ?? newId("password", project.env), hash }, deps.clock.now());
    await revokeUserSessions({ ...deps, store }, project.projectId, user.userId, "password_reset", keepSessionId);
    await store.events.record({ projectId: project.projectId, type: "password.changed", userId: user.userId, actor: "api" });
  });
  deps.feed.notify(project.projectId);
}

/**
 * POST /v1/passwords/existing_password/reset. As Stytch documents, every session of the user is
 * revoked, a session named in the request too (it must be the user's and alive); a new one is made
 * when a duration is given.
 */
export async function resetWithExistingPassword(
  deps: PasswordDeps,
  project: Project,
  input: SessionCredential & SessionRequest & { email: string; existingPassword: string; newPassword: string },
  context: RequestContext,
): Promise<{ user: User; issued: IssuedSession | null }> {
  const user = await verifyPassword(deps, project, input.email, input.existingPassword, context);
  const hasSession = input.sessionToken !== undefined || input.sessionJwt !== undefined;
  const named = hasSession ? await requireLiveSession(deps, project, input) : null;
  if (named && named.user.userId !== user.userId) throw new TesseraError("session_user_mismatch");
  await replacePassword(deps, project, user, input.newPassword);
  return { user, issued: await maybeSession(deps, project, user, input, context) };
}

/** POST /v1/passwords/session/reset: the session proves who the user is; other sessions are revoked. */
export async function resetWithSession(
  deps: PasswordDeps,
  project: Project,
  input: SessionCredential & SessionRequest & { password: string },
  context: RequestContext,
): Promise<{ user: User; issued: IssuedSession }> {
  const { session, user } = await requireLiveSession(deps, project, input);
  const now = deps.clock.now();
  const recent = session.authenticationFactors.some((f) => addMinutes(new Date(f.last_authenticated_at), SESSION_RESET_WINDOW_MINUTES) > now);
  if (!recent) throw new TesseraError("session_too_old_to_reset_password");
  await replacePassword(deps, project, user, input.password, session.sessionId);
  return { user, issued: await authenticateSession(deps, project, { ...input, context }) };
}
