import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

/**
 * A JWKS cache that keeps serving its last good copy when a refresh fails (jose's remote set throws
 * instead), refreshes when stale or on an unknown kid, and rate-limits refreshes with a cooldown so
 * forged kids cannot make it hammer the server.
 */
export function createJwksCache(options: { url: string; fetch: typeof fetch; maxAgeMs: number; cooldownMs: number; now: () => number }): JWTVerifyGetKey {
  let keys: JSONWebKeySet | null = null;
  let local: ReturnType<typeof createLocalJWKSet> | null = null;
  let fetchedAt = 0;
  let lastAttempt = -Infinity;
  let inFlight: Promise<void> | null = null;

  const refresh = () =>
    (inFlight ??= (async () => {
      lastAttempt = options.now();
      try {
        const response = await options.fetch(options.url, { headers: { accept: "application/json" } });
        if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
        const body = (await response.json()) as JSONWebKeySet;
        if (!Array.isArray(body.keys)) throw new Error("JWKS without keys");
        keys = { keys: body.keys };
        local = createLocalJWKSet(keys);
        fetchedAt = options.now();
      } finally {
        inFlight = null;
      }
    })());

  const coolingDown = () => options.now() - lastAttempt < options.cooldownMs;

  return async (header, token) => {
    if (!local || options.now() - fetchedAt > options.maxAgeMs) {
      if (!coolingDown()) await refresh().catch((error: unknown) => {
        if (!local) throw error; // nothing cached yet: this is an outage the caller must see
      });
    }
    if (!local) throw new errors.JWKSNoMatchingKey();
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || coolingDown()) throw error;
      await refresh().catch(() => {});
      return local(header, token);
    }
  };
}
