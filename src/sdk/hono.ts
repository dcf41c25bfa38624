import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
// Only through ./verify.js: the tessera-hono package maps that one import to the tessera-verify package,
// so an app's verifier and this middleware share one TesseraVerifyError class (instanceof below).
import { TesseraVerifyError, type AuthenticatedSession, type Verifier, type VerifyErrorCode } from "./verify.js";
import { isCheck, type AuthorizationCheck } from "./rbac-policy.js";

export { TesseraVerifyError } from "./verify.js";

export interface SessionMiddlewareOptions {
  verifier: Verifier;
  /** Stytch semantics: JWTs this old or older are exchanged; 0 asks the server on every request. */
  maxTokenAgeSeconds?: number;
  /** Stytch RBAC: the route needs this permission, else 403 invalid_permissions (the verifier needs the secret). */
  authorizationCheck?: AuthorizationCheck;
  /** Step-up: the newest authentication factor must be at most this old, else 403 reauthentication_required. */
  maxAuthAgeSeconds?: number;
  /** Cookie holding the session JWT for browser callers (default `tessera_session_jwt_<project_id>`, what Tessera sets). */
  cookieName?: string;
  clockToleranceSeconds?: number;
  /** Injectable clock for the step-up check (default: the system clock). */
  now?: () => Date;
}

/** The JWT cookie Tessera's browser API sets for a project: one name per project, so projects on one host never collide. */
export function jwtCookieName(projectId: string): string {
  return `tessera_session_jwt_${projectId}`;
}

/** Response header carrying a fresh JWT whenever the middleware had to exchange. */
export const FRESH_JWT_HEADER = "X-Tessera-Session-Jwt";

export interface TesseraVariables {
  tessera: AuthenticatedSession;
}

const statusOf: Record<VerifyErrorCode, 401 | 403 | 503 | 500> = {
  jwt_invalid: 401,
  jwt_expired: 401,
  jwt_too_old: 401,
  session_revoked: 401,
  session_not_found: 401,
  server_unavailable: 503,
  unauthorized_credentials: 500, // the app's own secret is wrong: a server misconfiguration, not the caller's fault
  invalid_permissions: 403,
};

function refuse(c: Context, status: 401 | 403 | 500 | 503, type: string, message: string) {
  return c.json({ status_code: status, error_type: type, error_message: message }, status);
}

/**
 * Per-route session check: `app.get("/feed", session({ verifier }))` trusts a JWT for its lifetime,
 * `app.post("/transfer", session({ verifier, maxTokenAgeSeconds: 0 }))` asks the server every time.
 * Options are validated when the middleware is built, not at the first request.
 */
export function session(options: SessionMiddlewareOptions): MiddlewareHandler<{ Variables: TesseraVariables }> {
  const { verifier, maxTokenAgeSeconds, maxAuthAgeSeconds } = options;
  if (!verifier || typeof verifier.authenticateJwt !== "function") throw new TypeError("session(): a verifier from createVerifier() is required");
  for (const [name, value] of Object.entries({ maxTokenAgeSeconds, maxAuthAgeSeconds })) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new TypeError(`session(): ${name} must be a number ≥ 0`);
  }
  if (options.authorizationCheck !== undefined && !isCheck(options.authorizationCheck)) throw new TypeError("session(): authorizationCheck must be { resource_id, action } with non-empty strings");
  if (options.cookieName === undefined && typeof verifier.projectId !== "string") throw new TypeError("session(): cookieName is required when the verifier has no projectId");
  const cookieName = options.cookieName ?? jwtCookieName(verifier.projectId);
  const now = options.now ?? (() => new Date());

  return async (c, next) => {
    const bearer = /^Bearer ([^\s]+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const fromCookie = bearer ? undefined : getCookie(c, cookieName);
    const jwt = bearer ?? fromCookie;
    if (!jwt) return refuse(c, 401, "unauthorized", "A session JWT is required (Authorization: Bearer, or the session cookie).");

    let result: AuthenticatedSession;
    try {
      result = await verifier.authenticateJwt(jwt, {
        ...(maxTokenAgeSeconds !== undefined ? { maxTokenAgeSeconds } : {}),
        ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
        ...(options.authorizationCheck ? { authorizationCheck: options.authorizationCheck } : {}),
      });
    } catch (error) {
      if (error instanceof TesseraVerifyError) return refuse(c, statusOf[error.code], error.code, error.message);
      throw error;
    }

    if (maxAuthAgeSeconds !== undefined) {
      const newest = Math.max(0, ...result.session.authentication_factors.map((f) => Date.parse(f.last_authenticated_at ?? "") || 0));
      if (now().getTime() - newest > maxAuthAgeSeconds * 1000) return refuse(c, 403, "reauthentication_required", `This action needs a login within the last ${maxAuthAgeSeconds} seconds.`);
    }

    if (result.session_jwt !== jwt) {
      c.header(FRESH_JWT_HEADER, result.session_jwt);
      if (fromCookie) setCookie(c, cookieName, result.session_jwt, { httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
    }
    c.set("tessera", result);
    await next();
  };
}
