import { decodeProtectedHeader, type JWTPayload } from "jose";

/**
 * The RFC 8725 rules `tessera/verify` applies to a session JWT, each in one place, whichever path
 * checks the signature (signature.ts: node:crypto or jose, with the key the JWKS pins to the header's
 * kid and alg). These are the rules around it: what may be parsed at all, which headers a token may
 * carry, and the claims.
 */

const MAX_JWT_BYTES = 8 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Header parameters that would make a verifier fetch keys or change how it reads the token. */
export const FORBIDDEN_HEADERS = ["jku", "x5u", "jwk", "x5c", "crit", "b64"];
/** What Tessera signs with; never `none` or HS* (RFC 8725 §3.1). */
export const ALGORITHMS = ["RS256", "ES256", "EdDSA"];
/** In the order jose checks their presence: a missing iss is named as the issuer problem. */
const REQUIRED_CLAIMS = ["iss", "aud", "sub", "nbf", "iat", "exp"];
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Cap the size before parsing anything; then three base64url segments, no padding or
 * whitespace, each the canonical encoding of its bytes. Decoders ignore a last character's unused
 * bits, so one token would otherwise have many spellings. With the alphabet checked, canonical means:
 * a length some byte count encodes to, and zero unused bits in the last character. O(1) per segment.
 */
export function isCanonicalCompactJws(jwt: string): boolean {
  if (jwt.length > MAX_JWT_BYTES || !COMPACT_JWS.test(jwt)) return false;
  const first = jwt.indexOf(".");
  const second = jwt.indexOf(".", first + 1);
  return canonicalEnd(jwt, first) && canonicalEnd(jwt, second) && canonicalEnd(jwt, jwt.length);
}

/** Whether the segment ending before `end` (exclusive) has a canonical length and last character. */
function canonicalEnd(jwt: string, end: number): boolean {
  const start = jwt.lastIndexOf(".", end - 1) + 1;
  const tail = (end - start) % 4;
  if (tail === 0) return true;
  if (tail === 1) return false;
  const unusedBits = tail === 2 ? 0b1111 : 0b11;
  return (BASE64URL.indexOf(jwt[end - 1]!) & unusedBits) === 0;
}

export interface CheckedHeader {
  readonly alg: string;
  readonly kid: string;
}

/**
 * The protected header if Tessera could have signed it, else null: an allowed alg (the JWKS then pins
 * it to the kid's key), a kid, `typ` JWT (RFC 8725 §3.11, compared as jose's `typ` option does), and
 * none of the headers that point elsewhere for keys or change how the payload is read. jose never
 * fetches jku/x5u or trusts an embedded jwk, but a token that carries them is not ours.
 */
export function checkedHeader(jwt: string): CheckedHeader | null {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jwt) as Record<string, unknown>;
  } catch {
    return null;
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== "string" || !ALGORITHMS.includes(alg) || typeof kid !== "string") return null;
  if (typeof typ !== "string" || !["jwt", "application/jwt"].includes(typ.toLowerCase())) return null;
  if (FORBIDDEN_HEADERS.some((name) => name in header)) return null;
  return Object.freeze({ alg, kid });
}

/** The verified payload bytes as a claims object, or null (RFC 7519 §7.2: a JSON object; RFC 8725 §3.7: UTF-8). */
export function claimsOf(payload: Uint8Array): JWTPayload | null {
  let claims: unknown;
  try {
    claims = JSON.parse(utf8.decode(payload));
  } catch {
    return null;
  }
  return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as JWTPayload) : null;
}

export type ClaimsVerdict = "ok" | "invalid" | "wrong_issuer" | "expired";

/**
 * The registered claims, checked as jose's jwtVerify checks them with `requiredClaims` exp, iat, nbf,
 * sub, aud, iss, `issuer`, `audience` and `clockTolerance`, in its order (iss before the times, nbf
 * before exp), plus what jose leaves out: `sub` is a string and `iat` is not in the future. `iat` is
 * compared with the exact time, nbf and exp with whole seconds, as jose does.
 */
export function claimsVerdict(claims: JWTPayload, expected: { issuers: string[]; audience: string; nowMs: number; toleranceSeconds: number }): ClaimsVerdict {
  for (const name of REQUIRED_CLAIMS) if (!Object.hasOwn(claims, name)) return name === "iss" ? "wrong_issuer" : "invalid";
  if (!expected.issuers.includes(claims.iss as string)) return "wrong_issuer";
  const { aud, sub, iat, nbf, exp } = claims;
  if (!(aud === expected.audience || (Array.isArray(aud) && aud.includes(expected.audience)))) return "invalid";
  if (typeof sub !== "string" || typeof iat !== "number" || typeof nbf !== "number" || typeof exp !== "number") return "invalid";
  const tolerance = expected.toleranceSeconds;
  const now = Math.floor(expected.nowMs / 1000);
  if (nbf > now + tolerance) return "invalid";
  if (exp <= now - tolerance) return "expired";
  // jose checks iat against the future only when maxTokenAge is set; a JWT from the future is forged or skewed.
  if (iat > expected.nowMs / 1000 + tolerance) return "invalid";
  return "ok";
}
