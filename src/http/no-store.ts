import type { MiddlewareHandler } from "hono";

/**
 * API responses carry credentials (session tokens, JWTs) or personal data (emails, names, session
 * lists): no browser, proxy or CDN cache may keep one (OWASP ASVS V8.2.1). One rule for every
 * response of a surface, errors included, rather than a list of routes that someone forgets to extend.
 * Set after the handler, so it also covers the error handler's responses.
 */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  };
}
