import type { RbacPolicy } from "./rbac-policy.js";

/**
 * The project's RBAC policy from `GET /v1/rbac/policy`, kept for `maxAgeMs`. Unlike the JWKS, a copy
 * past its age is never used: a permission removed from the policy must stop granting within that
 * bound, outage or not. `get()` is null when no fresh copy can be had (the caller then asks the
 * server, which decides from the current policy); after a failed fetch it stays null for `cooldownMs`
 * instead of hammering a sick server.
 */
export function createPolicyCache(options: { url: string; authorization: string; fetch: typeof fetch; maxAgeMs: number; cooldownMs: number; now: () => number }) {
  let policy: RbacPolicy | null = null;
  let fetchedAt = -Infinity;
  let failedAt = -Infinity;
  let inFlight: Promise<RbacPolicy | null> | null = null;

  const fetchPolicy = async (): Promise<RbacPolicy | null> => {
    const started = options.now();
    try {
      const response = await options.fetch(options.url, { headers: { authorization: options.authorization, accept: "application/json" } });
      const body = (await response.json()) as { policy?: RbacPolicy };
      if (!response.ok || !Array.isArray(body.policy?.roles) || !Array.isArray(body.policy?.resources)) throw new Error(`policy answered ${response.status}`);
      policy = body.policy;
      fetchedAt = started; // the age counts from the request, so a slow answer is not kept longer
      return policy;
    } catch {
      failedAt = options.now();
      return null;
    }
  };

  return {
    async get(): Promise<RbacPolicy | null> {
      const now = options.now();
      if (policy && now - fetchedAt < options.maxAgeMs) return policy;
      if (now - failedAt < options.cooldownMs) return null;
      // One fetch for all callers; cleared in a later microtask, so even a synchronous throw cannot pin it.
      return (inFlight ??= fetchPolicy().finally(() => (inFlight = null)));
    },
  };
}
