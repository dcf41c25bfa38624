import { TesseraError } from "../errors.js";
import type { DomainDeps, RateLimitRule } from "./ports.js";
import type { Project, RequestContext } from "./types.js";

/**
 * Brute force and credential stuffing (OWASP ASVS 2.2.1, NIST 800-63B 5.2.2): failures per email lock
 * it out for growing periods; attempts per client IP are capped. Unknown emails are counted and
 * locked exactly like real ones, so a lockout says nothing about whether an account exists.
 */
type ThrottleDeps = Pick<DomainDeps, "limiter" | "store">;

const DAY_SECONDS = 86_400;
const rules = (project: Project) => {
  const limits = project.settings.rateLimits;
  return {
    failures: { name: "login-failures", points: limits.loginFailuresPerEmail, durationSeconds: limits.loginFailureWindowSeconds } satisfies RateLimitRule,
    lockouts: { name: "login-lockouts", points: 1_000_000, durationSeconds: DAY_SECONDS } satisfies RateLimitRule,
    locked: { name: "login-locked", points: 1, durationSeconds: limits.maxLockoutSeconds } satisfies RateLimitRule,
    perIp: { name: "login-ip", points: limits.loginAttemptsPerIpPerMinute, durationSeconds: 60 } satisfies RateLimitRule,
  };
};
const emailKey = (project: Project, email: string) => `${project.projectId}:${email.trim().toLowerCase()}`;

function tooMany(retryAfterSeconds: number, message: string): TesseraError {
  return new TesseraError("too_many_requests", { message, retryAfterSeconds });
}

/** Before any password work: refuses a locked email or an IP over its limit, at no hashing cost. */
export async function guardLogin(deps: ThrottleDeps, project: Project, email: string, context: RequestContext): Promise<void> {
  const r = rules(project);
  const lockedFor = await deps.limiter.blockedFor(r.locked, emailKey(project, email));
  if (lockedFor > 0) throw tooMany(lockedFor, "Too many failed logins for this account; retry later.");
  if (context.ip) {
    const verdict = await deps.limiter.consume(r.perIp, `${project.projectId}:${context.ip}`);
    if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds, "Too many login attempts from this address; retry later.");
  }
}

/** Counts a failure; past the limit the email is locked, each lockout within a day twice as long as the last. */
export async function recordLoginFailure(deps: ThrottleDeps, project: Project, email: string, context: RequestContext): Promise<void> {
  const r = rules(project);
  const key = emailKey(project, email);
  // The Nth failure within the window locks the email.
  if ((await deps.limiter.consume(r.failures, key)).consumed < r.failures.points) return;
  const lockoutNumber = (await deps.limiter.consume(r.lockouts, key)).consumed;
  const limits = project.settings.rateLimits;
  const seconds = Math.min(limits.lockoutSeconds * 2 ** (lockoutNumber - 1), limits.maxLockoutSeconds);
  await deps.limiter.block(r.locked, key, seconds);
  await deps.limiter.reset(r.failures, key);
  await deps.store.events.record({ projectId: project.projectId, type: "login.locked", ip: context.ip, userAgent: context.userAgent, details: { lockout_seconds: seconds, lockout_number: lockoutNumber } });
}

export async function recordLoginSuccess(deps: ThrottleDeps, project: Project, email: string): Promise<void> {
  await deps.limiter.reset(rules(project).failures, emailKey(project, email));
}
