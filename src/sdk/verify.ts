import { errors as joseErrors, type JWTPayload } from "jose";
import { createJwksCache } from "./jwks-cache.js";
import { checkedHeader, claimsOf, claimsVerdict, isCanonicalCompactJws } from "./jwt-rules.js";
import { createSignatureCheck } from "./signature.js";
import { TesseraVerifyError } from "./errors.js";
import { startFeed } from "./feed-client.js";
import { createPolicyCache } from "./policy-cache.js";
import { grantingRoles, isCheck, type AuthorizationCheck } from "./rbac-policy.js";

export { TesseraVerifyError, type VerifyErrorCode } from "./errors.js";
export type { AuthorizationCheck, RbacPolicy } from "./rbac-policy.js";

const SESSION_CLAIM = "https://stytch.com/session";
const REGISTERED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", SESSION_CLAIM]);
const SKEW_SECONDS = 60;
/**
 * The most clockToleranceSeconds may be (jose sets none). A JWT is accepted until exp + tolerance,
 * so the deny-list keeps a revoked session that much longer too: with no cap, a large tolerance
 * would outlive the entry and accept a revoked session's JWT again. Past 5 minutes a clock needs fixing.
 */
const MAX_CLOCK_TOLERANCE_SECONDS = 300;
const PRUNE_EVERY_MS = 1000;

export interface VerifierOptions {
  /** Tessera's base URL, e.g. https://auth.example.com */
  url: string;
  projectId: string;
  /** A project secret: enables exchanges of expired or too-old JWTs, and the revocation feed. */
  secret?: string;
  /** Accepted `iss` values; default the base URL and `stytch.com/<project_id>`. */
  issuers?: string[];
  /** How long the JWKS is cached (Tessera serves max-age=300 at most). */
  jwksCacheSeconds?: number;
  /** How long the RBAC policy (for `authorizationCheck`) is cached, 1 to 300 s; default 60. Never used past it. */
  rbacPolicyCacheSeconds?: number;
  /** Subscribe to the revocation feed (default: when a secret is given). */
  revocationFeed?: boolean;
  fetch?: typeof fetch;
  /** Injectable clock, like jose's currentDate. */
  now?: () => Date;
}

export interface AuthenticateOptions {
  /** Stytch semantics: a JWT whose age is ≥ this is too old; 0 always asks the server. */
  maxTokenAgeSeconds?: number;
  clockToleranceSeconds?: number;
  /** Stytch RBAC: refused (`invalid_permissions`) unless one of the session's roles grants it. Needs the secret. */
  authorizationCheck?: AuthorizationCheck;
}

export interface SessionInfo {
  session_id: string;
  user_id: string;
  started_at: string;
  last_accessed_at: string;
  expires_at: string;
  attributes: Record<string, unknown>;
  authentication_factors: { type: string; last_authenticated_at?: string; [key: string]: unknown }[];
  roles: string[];
  custom_claims: Record<string, unknown>;
}

export interface AuthenticatedSession {
  session: SessionInfo;
  user_id: string;
  custom_claims: Record<string, unknown>;
  /** The JWT to use from now on: the given one, or a fresh one when the verifier exchanged. */
  session_jwt: string;
  /** "local": verified with the JWKS; "server": exchanged at /v1/sessions/authenticate. */
  verified_by: "local" | "server";
}

export interface Verifier {
  /** The project whose JWTs this verifier accepts (the `aud`). */
  readonly projectId: string;
  authenticateJwt(jwt: string, options?: AuthenticateOptions): Promise<AuthenticatedSession>;
  /** Resolves once the revocation feed has replayed and is live (immediately without a feed). */
  ready(): Promise<void>;
  /** Whether local verification is trusted right now (false while the feed has been down too long). */
  readonly localVerificationTrusted: boolean;
  close(): void;
}

type Refusal = "invalid" | "wrong_issuer" | "expired" | "too_old";

export function createVerifier(options: VerifierOptions): Verifier {
  if (!options.url || !options.projectId) throw new TypeError("createVerifier: url and projectId are required");
  const url = options.url.replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  const doFetch = options.fetch ?? fetch;
  const issuers = options.issuers ?? [url, `stytch.com/${options.projectId}`];
  const authorization = options.secret ? `Basic ${btoa(`${options.projectId}:${options.secret}`)}` : null;
  const jwks = createJwksCache({
    url: `${url}/v1/sessions/jwks/${encodeURIComponent(options.projectId)}`,
    fetch: doFetch,
    maxAgeMs: (options.jwksCacheSeconds ?? 300) * 1000,
    cooldownMs: 5_000,
    now: () => now().getTime(),
  });

  const policyCacheSeconds = options.rbacPolicyCacheSeconds ?? 60;
  if (!(policyCacheSeconds >= 1 && policyCacheSeconds <= 300)) throw new TypeError("createVerifier: rbacPolicyCacheSeconds must be from 1 to 300");
  const policies = authorization
    ? createPolicyCache({ url: `${url}/v1/rbac/policy`, authorization, fetch: doFetch, maxAgeMs: policyCacheSeconds * 1000, cooldownMs: 1_000, now: () => now().getTime() })
    : null;

  // Deny-list and user not-before times, each kept only as long as an affected JWT can live.
  const revoked = new Map<string, number>();
  /** notBefore: the change's whole second (floor); JWTs with an iat up to and including it are stale. */
  const userNotBefore = new Map<string, { notBefore: number; until: number }>();
  let jwtLifetimeSeconds = 300;
  /** Until when an event at `at` matters: the last JWT it affects expires, plus skew and the largest tolerance. */
  const affectsUntil = (at: Date) => at.getTime() + (jwtLifetimeSeconds + SKEW_SECONDS + MAX_CLOCK_TOLERANCE_SECONDS) * 1000;
  const feedWanted = (options.revocationFeed ?? true) && authorization !== null;
  let feedReadyAt: number | null = null;
  let feedDownSince: number | null = feedWanted ? now().getTime() : null;
  let markReady: () => void = () => {};
  const readyPromise = feedWanted ? new Promise<void>((resolve) => (markReady = resolve)) : Promise.resolve();

  const feed = feedWanted
    ? startFeed(
        { url, authorization: authorization!, fetch: doFetch },
        {
          onRevoked: (sessionId, at) => revoked.set(sessionId, affectsUntil(at)),
          onUserChanged: (userId, at) => userNotBefore.set(userId, { notBefore: Math.floor(at.getTime() / 1000), until: affectsUntil(at) }),
          onReady: (lifetime) => {
            jwtLifetimeSeconds = lifetime;
            feedReadyAt = now().getTime();
            feedDownSince = null;
            markReady();
          },
          onDisconnected: () => {
            feedDownSince ??= now().getTime();
          },
        },
      )
    : null;

  /** Without a live feed for longer than a JWT lives, a local "yes" could miss a revocation: ask the server. */
  const localTrusted = (nowMs: number) => !feedWanted || (feedReadyAt !== null && (feedDownSince === null || nowMs - feedDownSince <= jwtLifetimeSeconds * 1000));

  const verifySignature = createSignatureCheck();

  /**
   * The header's rules first (nothing is fetched for a token we could not have signed), then
   * the signature with the key the JWKS pins to that kid and alg (signature.ts), then the claims. Keys
   * are resolved once per key set (KeyCache), not per call.
   */
  const verifyLocally = async (jwt: string, opts: AuthenticateOptions, nowMs: number): Promise<{ payload: JWTPayload } | Refusal> => {
    if (!isCanonicalCompactJws(jwt)) return "invalid";
    const header = checkedHeader(jwt);
    if (!header) return "invalid";
    let key: CryptoKey;
    try {
      key = await jwks.key(header);
    } catch (error) {
      // Not a verdict on the token: the keys could not be had (first fetch failed). Never a false accept.
      if (!(error instanceof joseErrors.JOSEError)) throw new TesseraVerifyError("server_unavailable", "Could not fetch the JWKS.", { cause: error });
      return "invalid";
    }
    const verified = await verifySignature(jwt, key, header.alg);
    if (!verified) return "invalid";
    const payload = claimsOf(verified);
    if (!payload) return "invalid";
    const verdict = claimsVerdict(payload, { issuers, audience: options.projectId, nowMs, toleranceSeconds: opts.clockToleranceSeconds ?? 0 });
    if (verdict !== "ok") return verdict;
    const claim = payload[SESSION_CLAIM] as { id?: unknown } | undefined;
    if (typeof claim?.id !== "string") return "invalid";
    const maxAge = opts.maxTokenAgeSeconds;
    if (maxAge !== undefined && nowMs / 1000 - payload.iat! >= maxAge) return "too_old";
    const changed = userNotBefore.get(payload.sub!);
    // iat is whole seconds, so a JWT of the change's own second may predate it: too old unless minted in a
    // later second. One minted in that second after the change is exchanged once more: the safe side.
    if (changed && changed.until > nowMs && payload.iat! <= changed.notBefore) return "too_old";
    return { payload };
  };

  /** A locally verified session, or a refusal; null when no fresh policy can be had (the server decides). */
  const authorizeLocally = async (local: AuthenticatedSession, check: AuthorizationCheck): Promise<AuthenticatedSession | null> => {
    const policy = await policies!.get();
    if (!policy) return null;
    if (grantingRoles(policy, local.session.roles ?? [], check).length > 0) return local;
    throw refusedCheck(check);
  };

  const exchange = async (jwt: string, check?: AuthorizationCheck): Promise<AuthenticatedSession> => {
    let response: Response;
    try {
      response = await doFetch(`${url}/v1/sessions/authenticate`, {
        method: "POST",
        headers: { authorization: authorization!, "content-type": "application/json" },
        body: JSON.stringify({ session_jwt: jwt, ...(check ? { authorization_check: check } : {}) }),
      });
    } catch (error) {
      throw new TesseraVerifyError("server_unavailable", "The session server could not be reached.", { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { session?: SessionInfo; session_jwt?: string; error_type?: string; error_details?: { reason?: string } };
    if (response.ok && body.session && body.session_jwt) {
      return { session: body.session, user_id: body.session.user_id, custom_claims: body.session.custom_claims ?? {}, session_jwt: body.session_jwt, verified_by: "server" };
    }
    if (response.status === 403 && body.error_type === "consumer_session_authorization_error" && check) throw refusedCheck(check);
    if (response.status === 401) throw new TesseraVerifyError("unauthorized_credentials", "The project secret was refused.");
    if (response.status === 404) {
      const reason = body.error_details?.reason;
      throw new TesseraVerifyError(reason === "revoked" || reason === "user_deleted" ? "session_revoked" : "session_not_found", `The session is no longer valid (${reason ?? "unknown"}).`);
    }
    if (response.status >= 400 && response.status < 500) throw new TesseraVerifyError("jwt_invalid", "The session server refused the JWT.");
    throw new TesseraVerifyError("server_unavailable", `The session server answered ${response.status}.`);
  };

  /** Memory only: lookups compare `until` themselves, so sweeping once a second (not per call) changes no answer. */
  let prunedAt = -Infinity;
  const prune = (t: number) => {
    if (t >= prunedAt && t - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = t;
    for (const [id, until] of revoked) if (until <= t) revoked.delete(id);
    for (const [id, entry] of userNotBefore) if (entry.until <= t) userNotBefore.delete(id);
  };

  return {
    projectId: options.projectId,
    async authenticateJwt(jwt, opts = {}) {
      if (typeof jwt !== "string") throw new TesseraVerifyError("jwt_invalid", "The JWT must be a string.");
      if (opts.maxTokenAgeSeconds !== undefined && !(opts.maxTokenAgeSeconds >= 0)) throw new TypeError("maxTokenAgeSeconds must be ≥ 0");
      const check = opts.authorizationCheck;
      if (check !== undefined && !isCheck(check)) throw new TypeError("authorizationCheck must be { resource_id, action } with non-empty strings");
      if (check && !authorization) throw new TypeError("authorizationCheck needs a verifier with the project secret: the policy is fetched with it");
      const tolerance = opts.clockToleranceSeconds;
      if (tolerance !== undefined && !(tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_SECONDS)) throw new TypeError(`clockToleranceSeconds must be a number from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
      const nowMs = now().getTime();
      prune(nowMs);
      const result = opts.maxTokenAgeSeconds === 0 ? "too_old" : await verifyLocally(jwt, opts, nowMs);
      if (result === "invalid") throw new TesseraVerifyError("jwt_invalid", "The JWT did not verify.");
      if (result === "wrong_issuer") {
        // The one refusal with a likely configuration cause: say it, so it is not mistaken for a forgery.
        throw new TesseraVerifyError("jwt_invalid", `The JWT's iss is not one this verifier accepts (${issuers.join(", ")}): check the project's issuerFormat and that \`url\` is the server's PUBLIC_URL exactly.`);
      }
      if (typeof result === "object") {
        const revokedUntil = revoked.get((result.payload[SESSION_CLAIM] as { id: string }).id);
        if (revokedUntil !== undefined && revokedUntil > nowMs) throw new TesseraVerifyError("session_revoked", "The session was revoked.");
        if (localTrusted(nowMs)) {
          const local = fromPayload(result.payload, jwt);
          if (!check) return local;
          const decided = await authorizeLocally(local, check);
          if (decided) return decided;
        }
      }
      if (!authorization) {
        if (result === "expired") throw new TesseraVerifyError("jwt_expired", "The JWT has expired.");
        throw new TesseraVerifyError("jwt_too_old", "The JWT is older than maxTokenAgeSeconds allows.");
      }
      return exchange(jwt, check);
    },
    ready: () => readyPromise,
    get localVerificationTrusted() {
      return localTrusted(now().getTime());
    },
    close() {
      feed?.stop();
    },
  };
}

function refusedCheck(check: AuthorizationCheck): TesseraVerifyError {
  return new TesseraVerifyError("invalid_permissions", `The session's roles do not grant "${check.action}" on "${check.resource_id}".`);
}

function fromPayload(payload: JWTPayload, jwt: string): AuthenticatedSession {
  const claim = payload[SESSION_CLAIM] as Omit<SessionInfo, "session_id" | "user_id" | "custom_claims"> & { id: string };
  const keys = Object.keys(payload);
  // Most sessions carry none; fromEntries (not assignment) keeps a claim named __proto__ an own property.
  const custom_claims = keys.every((key) => REGISTERED_CLAIMS.has(key)) ? {} : Object.fromEntries(keys.filter((key) => !REGISTERED_CLAIMS.has(key)).map((key) => [key, payload[key]]));
  const { id, ...rest } = claim;
  return { session: { ...rest, session_id: id, user_id: payload.sub!, custom_claims }, user_id: payload.sub!, custom_claims, session_jwt: jwt, verified_by: "local" };
}
