import { randomUUID } from "node:crypto";
import { checkedHeader, claimsOf, isCanonicalCompactJws } from "../sdk/jwt-rules.js";
import { createSignatureCheck } from "../sdk/signature.js";
import { epochSeconds } from "./clock.js";
import type { SigningKeys } from "./keys.js";
import { effectiveRoles } from "./rbac.js";
import type { Project, Session, User } from "./types.js";

export const SESSION_CLAIM = "https://stytch.com/session";

/** Claims a caller can never set through custom claims. */
export const RESERVED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "typ", "azp", "scope", SESSION_CLAIM]);
export const isReservedClaim = (name: string) => RESERVED_CLAIMS.has(name) || name.startsWith("https://stytch.com/");

export function issuerFor(project: Project, publicUrl: string): string {
  return project.settings.issuerFormat === "stytch" ? `stytch.com/${project.projectId}` : publicUrl;
}

export function sessionClaim(session: Session, user: User) {
  return {
    id: session.sessionId,
    started_at: session.startedAt.toISOString(),
    last_accessed_at: session.lastAccessedAt.toISOString(),
    expires_at: session.expiresAt.toISOString(),
    attributes: session.attributes,
    authentication_factors: session.authenticationFactors,
    // With the implicit stytch_user, as Stytch signs it: the official client's local check reads these.
    roles: effectiveRoles(user.roles),
  };
}

export interface MintedJwt {
  jwt: string;
  issuedAt: Date;
  expiresAt: Date;
}

export async function mintSessionJwt(
  deps: { keys: SigningKeys; publicUrl: string },
  project: Project,
  session: Session,
  user: User,
  now: Date,
): Promise<MintedJwt> {
  const signer = await deps.keys.signer(project.projectId);
  const iat = epochSeconds(now);
  // exp never outlives the session: a JWT must not vouch for a session past its expiry.
  const exp = Math.min(iat + project.settings.jwtLifetimeSeconds, epochSeconds(session.expiresAt));
  // Built by hand rather than with jose's SignJWT: the claims are ours (custom claims cannot shadow a
  // registered one, see RESERVED_CLAIMS) and the header is encoded once per key (keys.ts, createSigner).
  const claims = {
    ...session.customClaims,
    [SESSION_CLAIM]: sessionClaim(session, user),
    iss: issuerFor(project, deps.publicUrl),
    aud: [project.projectId],
    sub: user.userId,
    iat,
    nbf: iat,
    exp,
    jti: randomUUID(),
  };
  const signingInput = `${signer.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const jwt = `${signingInput}.${await signer.sign(signingInput)}`;
  return { jwt, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
}

/** The verifier's own checks (tessera/verify): node:crypto where the runtime has it, else jose. */
const checkSignature = createSignatureCheck();

/**
 * Reads the session id from a JWT whose signature verifies with a published key of the project,
 * whether or not it has expired: the exchange then decides from Postgres whether the session lives.
 * The token rules (size, canonical encoding, header) are tessera/verify's. Returns null for anything
 * else, without saying which check failed.
 */
export async function sessionIdFromJwt(
  deps: { keys: SigningKeys; publicUrl: string },
  project: Project,
  jwt: string,
): Promise<{ sessionId: string; userId: string } | null> {
  if (!isCanonicalCompactJws(jwt)) return null;
  const header = checkedHeader(jwt);
  if (!header) return null;
  const verifier = await deps.keys.verifier(project.projectId, header.kid);
  if (!verifier || header.alg !== verifier.alg) return null;
  const verified = await checkSignature(jwt, verifier.key, verifier.alg);
  const payload = verified && claimsOf(verified);
  if (!payload) return null;
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  const issuers = [deps.publicUrl, `stytch.com/${project.projectId}`];
  const claim = payload[SESSION_CLAIM] as { id?: unknown } | undefined;
  if (!audiences.includes(project.projectId) || !issuers.includes(payload.iss as string)) return null;
  if (typeof payload.sub !== "string" || typeof claim?.id !== "string") return null;
  return { sessionId: claim.id, userId: payload.sub };
}
