import { JWKS_PATH } from "./routes/jwks.js";

/** A path at or under `prefix`, as Hono's `prefix/*` matches it (`/v1` and `/v1/…`, not `/v1x`). */
export const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * API responses carry credentials (session tokens, JWTs) or personal data (emails, names, session
 * lists): no browser, proxy or CDN cache may keep one (OWASP ASVS V8.2.1). One rule for every
 * response of a surface, errors included (the error handler answers on the same context, so it
 * keeps the header), rather than a list of routes that someone forgets to extend. The JWKS is
 * public and has its own caching.
 */
export function mustNotBeStored(path: string): boolean {
  return (isUnder(path, "/v1") && !isUnder(path, JWKS_PATH)) || isUnder(path, "/sdk/v1");
}

export const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ "Cache-Control": "no-store" });
