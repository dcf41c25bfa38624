import { TesseraError } from "../errors.js";
import type { DomainDeps, RateLimitRule } from "./ports.js";
import type { Project, RequestContext, User } from "./types.js";
import { canonicalEmail } from "./users.js";
import { perAddressKey } from "./client-network.js";

/**
 * Brute force and credential stuffing (OWASP ASVS 2.2.1, NIST 800-63B 5.2.2): failures per email lock
 * it out for growing periods; attempts per client IP are capped. Unknown emails are counted and
 * locked exactly like real ones, so a lockout says nothing about whether an account exists.
 *
 * A guess reserves its failure point before argon2 runs, in one atomic consume (Redis INCR, or the
 * in-process twin): a check before hashing and a count after it would let every guess already in
 * flight through, so at most `loginFailuresPerEmail` guesses per window are ever checked, on every
 * instance. A success gives the point back by clearing the count (failures are consecutive ones).
 */
type ThrottleDeps = Pick<DomainDeps, "limiter" | "store">;

const DAY_SECONDS = 86_400;
const IN_FLIGHT_RETRY_SECONDS = 1;
const rules = (project: Project) => {
  const limits = project.settings.rateLimits;
  return {
    failures: { name: "login-failures", points: limits.loginFailuresPerEmail, durationSeconds: limits.loginFailureWindowSeconds } satisfies RateLimitRule,
    lockouts: { name: "login-lockouts", points: 1_000_000, durationSeconds: DAY_SECONDS } satisfies RateLimitRule,
    /** Marks a lockout, so a refusal can tell it from a budget still held by guesses in flight. */
    locked: { name: "login-locked", points: 1, durationSeconds: limits.maxLockoutSeconds } satisfies RateLimitRule,
    perIp: { name: "login-ip", points: limits.loginAttemptsPerIpPerMinute, durationSeconds: 60 } satisfies RateLimitRule,
  };
};
const emailKey = (project: Project, email: string) => `${project.projectId}:${canonicalEmail(email)}`;

function tooMany(retryAfterSeconds: number, message: string): TesseraError {
  return new TesseraError("too_many_requests", { message, retryAfterSeconds });
}

/** A guess that may be checked; settle it with exactly one of the three functions below. */
export interface LoginAttempt {
  key: string;
  /** Failure points used in the window, this one included. */
  consumed: number;
}

/** Before any password work: refuses an IP over its limit or an email out of guesses, at no hashing cost. */
export async function reserveLoginAttempt(deps: ThrottleDeps, project: Project, email: string, context: RequestContext): Promise<LoginAttempt> {
  const r = rules(project);
  if (context.throttleIp) {
    const verdict = await deps.limiter.consume(r.perIp, perAddressKey(project.projectId, context.throttleIp));
    if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds, "Too many login attempts from this address; retry later.");
  }
  const key = emailKey(project, email);
  const verdict = await deps.limiter.consume(r.failures, key);
  if (!verdict.allowed) {
    // Locked: the lockout's own end. Else the last guesses are still being checked: ask again shortly.
    const lockedFor = await deps.limiter.blockedFor(r.locked, key);
    throw tooMany(lockedFor || IN_FLIGHT_RETRY_SECONDS, "Too many failed logins for this account; retry later.");
  }
  return { key, consumed: verdict.consumed };
}

/**
 * The guess failed. The one that took the last point locks the email: blocking the failure counter
 * itself keeps every later guess refused until the lockout ends, with no moment in between where the
 * count is back at zero. Each lockout within a day lasts twice as long as the last.
 */
export async function loginFailed(deps: ThrottleDeps, project: Project, attempt: LoginAttempt, context: RequestContext): Promise<void> {
  const r = rules(project);
  if (attempt.consumed < r.failures.points) return;
  const lockoutNumber = (await deps.limiter.consume(r.lockouts, attempt.key)).consumed;
  const limits = project.settings.rateLimits;
  const seconds = Math.min(limits.lockoutSeconds * 2 ** (lockoutNumber - 1), limits.maxLockoutSeconds);
  await deps.limiter.block(r.failures, attempt.key, seconds);
  await deps.limiter.block(r.locked, attempt.key, seconds);
  await deps.store.events.record({ projectId: project.projectId, type: "login.locked", ip: context.ip, userAgent: context.userAgent, details: { lockout_seconds: seconds, lockout_number: lockoutNumber } });
}

/**
 * Users as the API shows them: `lockedUntil` set while logins to the user's email are locked out (the
 * lockout is kept by the rate limiter, per canonical email, not in the users table).
 */
export async function withLockState<U extends User>(deps: Pick<DomainDeps, "limiter" | "clock">, project: Project, users: U[]): Promise<U[]> {
  const locked = rules(project).locked;
  return Promise.all(
    users.map(async (user) => {
      const seconds = user.email ? await deps.limiter.blockedFor(locked, emailKey(project, user.email)) : 0;
      return { ...user, lockedUntil: seconds > 0 ? new Date(deps.clock.now().getTime() + seconds * 1000) : null };
    }),
  );
}

export async function loginSucceeded(deps: ThrottleDeps, project: Project, attempt: LoginAttempt): Promise<void> {
  await deps.limiter.reset(rules(project).failures, attempt.key);
}

/** Nothing was checked (the hasher was saturated, the store failed): the guess gives its point back. */
export async function loginAbandoned(deps: ThrottleDeps, project: Project, attempt: LoginAttempt): Promise<void> {
  await deps.limiter.refund(rules(project).failures, attempt.key);
}
