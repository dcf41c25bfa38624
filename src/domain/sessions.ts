import { TesseraError } from "../errors.js";
import { addMinutes } from "./clock.js";
import { assertJsonObject, mergeDeletingNulls } from "./json-objects.js";
import { isReservedClaim, mintSessionJwt, sessionIdFromJwt, type MintedJwt } from "./jwt.js";
import type { DomainDeps, SessionWithUser } from "./ports.js";
import { authorize, type AuthorizationCheck, type AuthorizationVerdict } from "./rbac.js";
import { SESSION_DURATION_MINUTES } from "./projects.js";
import { openSessionToken, sealSessionToken } from "./sealed-tokens.js";
import { newId, newSessionToken, parseSessionToken, sha256Hex } from "./tokens.js";
import type { AuthenticationFactor, Project, RequestContext, Session, User } from "./types.js";

/** `last_accessed_at` is written at most this often per session, so the exchange is usually a pure read. */
export const LAST_ACCESS_WRITE_INTERVAL_MS = 60_000;
export const CUSTOM_CLAIMS_LIMITS = { maxBytes: 4096, maxDepth: 8 } as const;

type SessionDeps = Pick<DomainDeps, "store" | "clock" | "keys" | "publicUrl" | "feed" | "limiter" | "vault">;

export interface IssuedSession {
  session: Session;
  user: User;
  /** Empty only for a JWT-authenticated session made before migration 0006 (see sealed-tokens.ts). */
  sessionToken: string;
  jwt: MintedJwt;
  /** Set when the exchange was asked an authorization check and granted it. */
  verdict?: AuthorizationVerdict;
}

/** Either credential names a session; both at once is `too_many_session_arguments` (Stytch). */
export interface SessionCredential {
  sessionToken?: string | undefined;
  sessionJwt?: string | undefined;
}

export function checkDuration(project: Project, minutes: number): void {
  const max = Math.min(SESSION_DURATION_MINUTES.max, project.settings.maxSessionDurationMinutes);
  if (!Number.isInteger(minutes) || minutes < SESSION_DURATION_MINUTES.min || minutes > max) {
    throw new TesseraError("invalid_session_duration", { message: `session_duration_minutes must be an integer from ${SESSION_DURATION_MINUTES.min} to ${max}.` });
  }
}

/** Expiry `minutes` from now, never past the project's absolute cap. */
function expiryFrom(project: Project, startedAt: Date, now: Date, minutes: number): Date {
  const wanted = addMinutes(now, minutes);
  const cap = project.settings.absoluteLifetimeMinutes;
  if (cap === null) return wanted;
  const capAt = addMinutes(startedAt, cap);
  return wanted < capAt ? wanted : capAt;
}

export function applyCustomClaims(current: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  assertJsonObject(patch, CUSTOM_CLAIMS_LIMITS, "invalid_custom_claims", "session_custom_claims");
  const reserved = Object.keys(patch).filter(isReservedClaim);
  if (reserved.length > 0) {
    throw new TesseraError("invalid_custom_claims", { message: `Reserved claim names cannot be set: ${reserved.join(", ")}.` });
  }
  const merged = mergeDeletingNulls(current, patch);
  assertJsonObject(merged, CUSTOM_CLAIMS_LIMITS, "invalid_custom_claims", "session_custom_claims");
  return merged;
}

export function passwordFactor(now: Date, user: User): AuthenticationFactor {
  const at = now.toISOString();
  return {
    type: "password",
    delivery_method: "knowledge",
    last_authenticated_at: at,
    created_at: at,
    updated_at: at,
    ...(user.email && user.emailId ? { email_factor: { email_id: user.emailId, email_address: user.email } } : {}),
  };
}

export async function createSession(
  deps: SessionDeps,
  project: Project,
  user: User,
  input: { durationMinutes: number; factor: AuthenticationFactor; customClaims?: unknown; context: RequestContext },
): Promise<IssuedSession> {
  checkDuration(project, input.durationMinutes);
  const now = deps.clock.now();
  const customClaims = input.customClaims === undefined ? {} : applyCustomClaims({}, input.customClaims);
  const sessionToken = newSessionToken();
  const session: Session = {
    sessionId: newId("session", project.env),
    projectId: project.projectId,
    userId: user.userId,
    startedAt: now,
    lastAccessedAt: now,
    expiresAt: expiryFrom(project, now, now, input.durationMinutes),
    revokedAt: null,
    revokedReason: null,
    attributes: attributesOf(input.context),
    authenticationFactors: [input.factor],
    customClaims,
  };
  await deps.store.transaction(async (store) => {
    // A deletion committing meanwhile would miss this session and leave it (and its JWT) alive.
    if (!(await store.users.holdLive(project.projectId, user.userId))) throw new TesseraError("user_not_found");
    await store.sessions.create({ ...session, tokenHash: sha256Hex(sessionToken), tokenSealed: sealSessionToken(deps.vault, session.sessionId, sessionToken) });
    await store.events.record({ projectId: project.projectId, type: "session.created", userId: user.userId, sessionId: session.sessionId, ...contextOf(input.context) });
  });
  return { session, user, sessionToken, jwt: await mintSessionJwt(deps, project, session, user, now) };
}

/** Finds the session a credential names, alive or not. Null when it names none of this project's. */
export async function findSession(deps: SessionDeps, project: Project, credential: SessionCredential): Promise<SessionWithUser | null> {
  if (credential.sessionToken !== undefined && credential.sessionJwt !== undefined) throw new TesseraError("too_many_session_arguments");
  if (credential.sessionToken !== undefined) {
    const token = parseSessionToken(credential.sessionToken);
    if (!token) return null;
    return deps.store.sessions.findByTokenHash(project.projectId, sha256Hex(token));
  }
  if (credential.sessionJwt !== undefined) {
    const named = await sessionIdFromJwt(deps, project, credential.sessionJwt);
    if (!named) return null;
    const found = await deps.store.sessions.findById(project.projectId, named.sessionId);
    return found && found.user.userId === named.userId ? found : null;
  }
  throw new TesseraError("bad_request", { message: "Provide session_token or session_jwt." });
}

/** Why a session can no longer be used, or null when it is alive. */
export function deathReason({ session, user }: SessionWithUser, project: Project, now: Date): string | null {
  if (session.revokedAt) return session.revokedReason === "user_deleted" ? "user_deleted" : "revoked";
  if (user.status === "deleted") return "user_deleted";
  if (session.expiresAt <= now) return "expired";
  const idle = project.settings.idleTimeoutMinutes;
  if (idle !== null && addMinutes(session.lastAccessedAt, idle) <= now) return "idle_timeout";
  return null;
}

/** The session a credential names, alive, or `session_not_found` with the reason. */
export async function requireLiveSession(deps: SessionDeps, project: Project, credential: SessionCredential): Promise<SessionWithUser> {
  const found = await findSession(deps, project, credential);
  const reason = found ? deathReason(found, project, deps.clock.now()) : "not_found";
  if (reason || !found) throw new TesseraError("session_not_found", { details: { reason } });
  return found;
}

/**
 * The exchange: always checks the session in the database, then mints a fresh JWT. Writes only when
 * something changed or `last_accessed_at` is due.
 */
export async function authenticateSession(
  deps: SessionDeps,
  project: Project,
  input: SessionCredential & { durationMinutes?: number | undefined; customClaims?: unknown; factor?: AuthenticationFactor; context?: RequestContext; authorizationCheck?: AuthorizationCheck | undefined },
): Promise<IssuedSession> {
  const { session, user } = await requireLiveSession(deps, project, input);
  // Only a live session's user is asked, and a refusal changes nothing (no extension, no claims).
  const authorization = input.authorizationCheck ? authorize(project, user, input.authorizationCheck) : undefined;
  const perMinute = project.settings.rateLimits.exchangesPerSessionPerMinute;
  const verdict = deps.limiter.consumeShared({ name: "exchange", points: perMinute, durationSeconds: 60 }, session.sessionId);
  if (!verdict.allowed) throw new TesseraError("too_many_requests", { message: "Too many exchanges for this session; retry later.", retryAfterSeconds: verdict.retryAfterSeconds });
  const now = deps.clock.now();
  const patch: Parameters<DomainDeps["store"]["sessions"]["update"]>[1] = {};

  if (input.durationMinutes !== undefined) {
    checkDuration(project, input.durationMinutes);
    patch.expiresAt = expiryFrom(project, session.startedAt, now, input.durationMinutes);
  }
  if (input.customClaims !== undefined) patch.customClaims = applyCustomClaims(session.customClaims, input.customClaims);
  if (input.factor) {
    patch.authenticationFactors = [...session.authenticationFactors.filter((f) => f.type !== input.factor!.type), input.factor];
  }
  if (patch.expiresAt) {
    patch.lastAccessedAt = now;
    await deps.store.transaction(async (store) => {
      await store.sessions.update(session.sessionId, patch);
      await store.events.record({ projectId: project.projectId, type: "session.extended", userId: user.userId, sessionId: session.sessionId, ...contextOf(input.context ?? {}) });
    });
  } else if (Object.keys(patch).length > 0 || now.getTime() - session.lastAccessedAt.getTime() >= LAST_ACCESS_WRITE_INTERVAL_MS) {
    patch.lastAccessedAt = now;
    await deps.store.sessions.update(session.sessionId, patch);
  }
  const updated: Session = { ...session, ...patch };
  // By token, the caller holds it already: only a JWT-authenticated exchange opens the envelope.
  const sessionToken = input.sessionToken ?? openSessionToken(deps.vault, session);
  return { session: updated, user, sessionToken, jwt: await mintSessionJwt(deps, project, updated, user, now), ...(authorization ? { verdict: authorization } : {}) };
}

export async function revokeSession(
  deps: SessionDeps,
  project: Project,
  input: SessionCredential & { sessionId?: string | undefined; context?: RequestContext },
): Promise<void> {
  const given = [input.sessionId, input.sessionToken, input.sessionJwt].filter((v) => v !== undefined).length;
  if (given !== 1) throw new TesseraError("bad_request", { message: "Provide exactly one of session_id, session_token, session_jwt." });
  const found = input.sessionId !== undefined ? await deps.store.sessions.findById(project.projectId, input.sessionId) : await findSession(deps, project, input);
  if (!found) throw new TesseraError("session_not_found", { details: { reason: "not_found" } });
  // Revoking twice is not an error: the caller's intent (this session is dead) holds.
  const revoked = await deps.store.transaction(async (store) => {
    if (!(await store.sessions.revoke(project.projectId, found.session.sessionId, "revoked", deps.clock.now()))) return false;
    await store.events.record({ projectId: project.projectId, type: "session.revoked", userId: found.user.userId, sessionId: found.session.sessionId, actor: "api", ...contextOf(input.context ?? {}) });
    return true;
  });
  if (revoked) deps.feed.notify(project.projectId); // after the commit: readers must find the rows
}

/** Revokes every live session of a user (an extension beyond Stytch's API). */
export async function revokeAllSessionsOfUser(deps: SessionDeps, project: Project, userId: string): Promise<number> {
  if (!(await deps.store.users.get(project.projectId, userId))) throw new TesseraError("user_not_found");
  const revoked = await deps.store.transaction((store) => revokeUserSessions({ ...deps, store }, project.projectId, userId, "revoked"));
  if (revoked.length > 0) deps.feed.notify(project.projectId);
  return revoked.length;
}

/** Revokes and announces in the caller's transaction: `deps.store` must be bound to one. */
export async function revokeUserSessions(
  deps: Pick<DomainDeps, "store" | "clock">,
  projectId: string,
  userId: string,
  reason: string,
  exceptSessionId?: string,
): Promise<string[]> {
  const revoked = await deps.store.sessions.revokeAllForUser(projectId, userId, reason, deps.clock.now(), exceptSessionId);
  await deps.store.events.recordMany(revoked.map((sessionId) => ({ projectId, type: "session.revoked", userId, sessionId, actor: "system", details: { reason } })));
  return revoked;
}

export async function listSessions(deps: Pick<DomainDeps, "store" | "clock">, project: Project, userId: string): Promise<Session[]> {
  const now = deps.clock.now();
  const sessions = await deps.store.sessions.listLive(project.projectId, userId, now);
  const idle = project.settings.idleTimeoutMinutes;
  return idle === null ? sessions : sessions.filter((s) => addMinutes(s.lastAccessedAt, idle) > now);
}

function attributesOf(context: RequestContext): Session["attributes"] {
  return { ...(context.ip ? { ip_address: context.ip } : {}), ...(context.userAgent ? { user_agent: context.userAgent } : {}) };
}

export function contextOf(context: RequestContext) {
  return { ip: context.ip ?? null, userAgent: context.userAgent ?? null };
}
