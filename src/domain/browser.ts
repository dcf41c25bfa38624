import { TesseraError } from "../errors.js";
import { createPasswordUser } from "./passwords.js";
import type { DomainDeps, RateLimitRule } from "./ports.js";
import { listSessions, requireLiveSession, revokeSession } from "./sessions.js";
import type { Project, RequestContext, Session } from "./types.js";
import { perAddressKey } from "./client-network.js";

type BrowserDeps = Pick<DomainDeps, "store" | "clock" | "keys" | "publicUrl" | "hasher" | "strength" | "feed" | "limiter" | "vault">;

/**
 * Browser sign-up answers the same for a new and a taken email (both hash the password first, so
 * the timing matches too); it never logs in by itself. The SDK then logs in, where a taken email
 * with another password gets the same `unauthorized_credentials` as any wrong password.
 */
export async function signUpInBrowser(deps: BrowserDeps, project: Project, input: { email: string; password: string }, context: RequestContext): Promise<void> {
  if (!project.settings.selfSignUp) throw new TesseraError("sign_up_disabled");
  await reserveSignUp(deps, project, context);
  try {
    await createPasswordUser(deps, project, input, context);
  } catch (error) {
    if (!(error instanceof TesseraError && error.type === "duplicate_email")) throw error;
  }
}

/**
 * Each sign-up costs a zxcvbn estimate, an argon2 hash and an account: spend the caller's budget
 * (per end-user address, then per project, so one address cannot drain the project's) before any work.
 */
async function reserveSignUp(deps: Pick<DomainDeps, "limiter">, project: Project, context: RequestContext): Promise<void> {
  const limits = project.settings.rateLimits;
  const budgets: [RateLimitRule, string][] = [[{ name: "signup-project", points: limits.signUpsPerProjectPerMinute, durationSeconds: 60 }, project.projectId]];
  if (context.throttleIp) budgets.unshift([{ name: "signup-ip", points: limits.signUpsPerIpPerHour, durationSeconds: 3600 }, perAddressKey(project.projectId, context.throttleIp)]);
  for (const [rule, key] of budgets) {
    const verdict = await deps.limiter.consume(rule, key);
    if (!verdict.allowed) throw new TesseraError("too_many_requests", { message: "Too many sign-ups; retry later.", retryAfterSeconds: verdict.retryAfterSeconds });
  }
}

/** The signed-in user's live sessions, the current one marked. */
export async function listOwnSessions(deps: BrowserDeps, project: Project, sessionToken: string): Promise<{ sessions: Session[]; currentSessionId: string }> {
  const { session, user } = await requireLiveSession(deps, project, { sessionToken });
  return { sessions: await listSessions(deps, project, user.userId), currentSessionId: session.sessionId };
}

/** Revokes another session of the signed-in user; someone else's session is "not found". */
export async function revokeOwnSession(deps: BrowserDeps, project: Project, sessionToken: string, sessionId: string, context: RequestContext): Promise<void> {
  const { user } = await requireLiveSession(deps, project, { sessionToken });
  const target = await deps.store.sessions.findById(project.projectId, sessionId);
  if (!target || target.user.userId !== user.userId) throw new TesseraError("not_found", { message: "You have no session with that id." });
  await revokeSession(deps, project, { sessionId, context });
}
