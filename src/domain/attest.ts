import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import { TesseraError } from "../errors.js";
import { FORBIDDEN_HEADERS, isCanonicalCompactJws } from "../sdk/jwt-rules.js";
import type { DomainDeps } from "./ports.js";
import { authenticateSession, contextOf, createSession, requireLiveSession, type IssuedSession, type SessionCredential } from "./sessions.js";
import type { AuthenticationFactor, Project, RequestContext, TrustedTokenProfile, User } from "./types.js";
import { canonicalEmail, createUser, normalizeEmail } from "./users.js";

/**
 * POST /v1/sessions/attest: a JWT from a trusted issuer (a profile of the project) exchanged for a
 * session of the user its email names. The token is held to the rules of RFC 8725, as our own are:
 * asymmetric algorithms only (never `none` or HS*), no header that would make us fetch or trust other
 * keys (jku, x5u, jwk, x5c) or change how the token reads (crit, b64), the profile's exact issuer and
 * audience, and exp, nbf, iat present and valid.
 */
type AttestDeps = Pick<DomainDeps, "store" | "clock" | "keys" | "publicUrl" | "feed" | "limiter" | "vault" | "trustedJwks">;

const ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** The skew allowed on exp, nbf and iat between the issuer's clock and ours. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface AttestInput extends SessionCredential {
  profileId: string;
  token: string;
  durationMinutes?: number | undefined;
  customClaims?: unknown;
}

/** The verified claims, or the coded refusal: the integrator needs to know which rule its issuer broke. */
export async function verifyTrustedToken(deps: Pick<AttestDeps, "clock" | "trustedJwks">, profile: TrustedTokenProfile, token: string): Promise<JWTPayload> {
  if (!isCanonicalCompactJws(token)) throw new TesseraError("invalid_token", { message: "The token is not a compact JWS of at most 8 KB." });
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TesseraError("invalid_token", { message: "The token's header does not parse." });
  }
  if (typeof header.alg !== "string" || !ALGORITHMS.includes(header.alg)) throw new TesseraError("invalid_token", { message: `The token's alg must be one of ${ALGORITHMS.join(", ")}.` });
  const forbidden = FORBIDDEN_HEADERS.filter((h) => h in header);
  if (forbidden.length > 0) throw new TesseraError("invalid_token", { message: `The token's header must not carry ${forbidden.join(", ")}.` });
  try {
    const { payload } = await jwtVerify(token, deps.trustedJwks.keysFor(profile), {
      algorithms: ALGORITHMS,
      issuer: profile.issuer,
      audience: profile.audience,
      requiredClaims: ["exp", "nbf", "iat", "iss", "aud"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: deps.clock.now(),
    });
    return payload;
  } catch (error) {
    throw refusal(error);
  }
}

function refusal(error: unknown): TesseraError {
  if (error instanceof joseErrors.JWTExpired) return new TesseraError("jwt_invalid_claims", { message: "The token has expired.", cause: error });
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new TesseraError("jwt_invalid_audience", { cause: error });
    if (error.claim === "iss") return new TesseraError("jwt_invalid_issuer", { cause: error });
    return new TesseraError("jwt_invalid_claims", { message: `The token's ${error.claim} claim is invalid or missing (${error.reason}).`, cause: error });
  }
  if (error instanceof joseErrors.JWKSTimeout) return new TesseraError("service_unavailable", { message: "The profile's JWKS did not answer in time; retry later.", cause: error });
  if (error instanceof joseErrors.JOSEError) return new TesseraError("invalid_token", { cause: error });
  // jose lets fetch failures through as they are: the issuer's key set cannot be reached now.
  return new TesseraError("service_unavailable", { message: "The profile's JWKS cannot be fetched now; retry later.", cause: error });
}

function claim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** The user the token's email names; created when the profile allows (JIT provisioning). */
async function userFor(deps: AttestDeps, project: Project, profile: TrustedTokenProfile, payload: JWTPayload, context: RequestContext): Promise<User> {
  const emailClaim = profile.attributeMapping.email ?? "email";
  const raw = claim(payload, emailClaim);
  if (!raw) throw new TesseraError("jwt_invalid_claims", { message: `The token has no ${emailClaim.slice(0, 128)} claim (the profile's email attribute).` });
  const email = normalizeEmail(raw);
  const lookup = async () => {
    const found = await deps.store.users.findByEmailForLogin(project.projectId, email);
    // The same one spelling as logins (canonicalEmail): Postgres' lower() differs from JavaScript's on a few letters.
    return found && canonicalEmail(found.user.email ?? "") === canonicalEmail(email) ? found.user : null;
  };
  const existing = await lookup();
  if (existing) return existing;
  if (!profile.canJitProvision) throw new TesseraError("user_not_found", { message: "No user has the token's email, and the profile does not provision users." });
  try {
    return await createUser(deps, project, { email }, context);
  } catch (error) {
    // A concurrent attest made the user first: use it.
    if (error instanceof TesseraError && error.type === "duplicate_email") {
      const raced = await lookup();
      if (raced) return raced;
    }
    throw error;
  }
}

function trustedFactor(now: Date, user: User, profile: TrustedTokenProfile, payload: JWTPayload): AuthenticationFactor {
  const at = now.toISOString();
  const tokenId = claim(payload, profile.attributeMapping.token_id ?? "jti");
  return {
    type: "trusted_auth_token",
    delivery_method: "trusted_token_exchange",
    last_authenticated_at: at,
    created_at: at,
    updated_at: at,
    trusted_auth_token_factor: { token_id: tokenId ?? "" },
    ...(user.email && user.emailId ? { email_factor: { email_id: user.emailId, email_address: user.email } } : {}),
  };
}

/**
 * With a session credential the factor joins that session (it must be the same user's); else a
 * session is made only when a duration is given (Stytch's consumer API).
 */
export async function attestSession(deps: AttestDeps, project: Project, input: AttestInput, context: RequestContext): Promise<{ user: User; issued: IssuedSession | null }> {
  const profile = await deps.store.trustedTokenProfiles.get(project.projectId, input.profileId);
  if (!profile) throw new TesseraError("trusted_token_profile_not_found");
  const payload = await verifyTrustedToken(deps, profile, input.token);
  const user = await userFor(deps, project, profile, payload, context);
  const factor = trustedFactor(deps.clock.now(), user, profile, payload);
  let issued: IssuedSession | null = null;
  if (input.sessionToken !== undefined || input.sessionJwt !== undefined) {
    const { session } = await requireLiveSession(deps, project, input);
    if (session.userId !== user.userId) throw new TesseraError("session_user_mismatch");
    issued = await authenticateSession(deps, project, { ...input, factor, context });
  } else if (input.durationMinutes !== undefined) {
    issued = await createSession(deps, project, user, { durationMinutes: input.durationMinutes, factor, customClaims: input.customClaims, context });
  }
  await deps.store.events.record({ projectId: project.projectId, type: "login.succeeded", userId: user.userId, sessionId: issued?.session.sessionId ?? null, ...contextOf(context), details: { method: "trusted_auth_token", profile_id: profile.profileId } });
  return { user, issued };
}
