import { staticHeaders } from "./static-headers.js";

/**
 * API responses carry credentials (session tokens, JWTs) or personal data (emails, names, session
 * lists): no browser, proxy or CDN cache may keep one (OWASP ASVS V8.2.1). One rule for every
 * response of a surface, errors included (the error handler answers on the same context, so it
 * keeps the header), rather than a list of routes that someone forgets to extend.
 */
export const noStore = () => staticHeaders({ "Cache-Control": "no-store" });
