import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { TrustedJwks } from "../domain/ports.js";

/** A JWKS fetch may take this long: within the request's bound, then the attest fails with a 503. */
const FETCH_TIMEOUT_MS = 2_000;
/** An unknown kid refetches the set at most this often (a token naming random kids cannot flood the issuer). */
const COOLDOWN_MS = 30_000;
const CACHE_MAX_AGE_MS = 10 * 60_000;

/** One jose remote key set per trusted profile, kept for the process's life (or until the profile is deleted). */
export function createTrustedJwks(): TrustedJwks {
  const sets = new Map<string, { url: string; keys: JWTVerifyGetKey }>();
  return {
    keysFor(profile) {
      const held = sets.get(profile.profileId);
      if (held && held.url === profile.jwksUrl) return held.keys;
      const keys = createRemoteJWKSet(new URL(profile.jwksUrl), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: COOLDOWN_MS, cacheMaxAge: CACHE_MAX_AGE_MS });
      sets.set(profile.profileId, { url: profile.jwksUrl, keys });
      return keys;
    },
    forget(profileId) {
      sets.delete(profileId);
    },
  };
}
