import { createLocalJWKSet, errors, type JSONWebKeySet } from "jose";

export interface KeyCache {
  /**
   * The public key for a header's `kid` and `alg`, as jose's local JWKS set selects and imports it
   * (the JWK's own `alg`, `use`, `key_ops`, `kty` and `crv` must fit; a kid with two such keys is
   * refused). Synchronous once a key set is fresh and the key was resolved: no promise per call.
   * Throws jose's JWKSNoMatchingKey for an unknown kid after at most one refresh, and the fetch's
   * error while no key set was ever had.
   */
  key(header: { alg: string; kid: string }): CryptoKey | Promise<CryptoKey>;
}

/**
 * A JWKS cache that keeps serving its last good copy when a refresh fails (jose's remote set throws
 * instead), refreshes when stale or on an unknown kid, and rate-limits refreshes with a cooldown so
 * forged kids cannot make it hammer the server. Resolved keys are kept per key set, only for kids the
 * set holds, so their number is bounded by the server's JWKS, never by what callers send.
 */
export function createJwksCache(options: { url: string; fetch: typeof fetch; maxAgeMs: number; cooldownMs: number; now: () => number }): KeyCache {
  let local: ReturnType<typeof createLocalJWKSet> | null = null;
  /** `${alg} ${kid}` → the key, or its import in progress; emptied with every new key set. */
  let resolved = new Map<string, CryptoKey | Promise<CryptoKey>>();
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
        local = createLocalJWKSet({ keys: body.keys });
        resolved = new Map();
        fetchedAt = options.now();
      } finally {
        inFlight = null;
      }
    })());

  const coolingDown = () => options.now() - lastAttempt < options.cooldownMs;

  const resolve = (header: { alg: string; kid: string }, id: string): Promise<CryptoKey> => {
    const set = local!;
    const keys = resolved;
    const pending = (set({ alg: header.alg, kid: header.kid }) as Promise<CryptoKey>).then(
      (key) => {
        if (keys.get(id) === pending) keys.set(id, key);
        return key;
      },
      (error: unknown) => {
        if (keys.get(id) === pending) keys.delete(id); // an unknown kid is never remembered
        throw error;
      },
    );
    keys.set(id, pending);
    return pending;
  };

  const slow = async (header: { alg: string; kid: string }, id: string): Promise<CryptoKey> => {
    if (!local || options.now() - fetchedAt > options.maxAgeMs) {
      if (!coolingDown()) await refresh().catch((error: unknown) => {
        if (!local) throw error; // nothing cached yet: this is an outage the caller must see
      });
    }
    if (!local) throw new errors.JWKSNoMatchingKey();
    try {
      return await (resolved.get(id) ?? resolve(header, id));
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || coolingDown()) throw error;
      await refresh().catch(() => {});
      return resolved.get(id) ?? resolve(header, id);
    }
  };

  return {
    key(header) {
      const id = `${header.alg} ${header.kid}`;
      if (local && options.now() - fetchedAt <= options.maxAgeMs) {
        const hit = resolved.get(id);
        if (hit) return hit;
      }
      return slow(header, id);
    },
  };
}
