import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { TesseraError } from "../errors.js";
import type { Store } from "../domain/ports.js";
import type { Project } from "../domain/types.js";
import type { AppEnv } from "./context.js";

/** The custom header every state-changing browser request must carry (a form post or a simple cross-site request cannot). */
export const CSRF_HEADER = "X-Tessera-Request";
const SAFE_METHODS = new Set(["GET", "HEAD"]);

/**
 * The browser surface's one guard: the public token in the path names the project; the Origin must
 * be one of the project's allowed origins (an explicit refusal: CORS headers alone would still run the
 * handler); state-changing requests need an allowed Origin and the custom header. Preflights are
 * answered here.
 */
export function browserGuard(deps: { store: Store }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const publicToken = c.req.param("public_token") ?? "";
    const project = publicToken.length <= 128 ? await deps.store.projects.byPublicToken(publicToken) : null;
    if (!project) throw new TesseraError("invalid_public_token");
    const origin = c.req.header("origin");
    const allowed = origin !== undefined && project.settings.allowedOrigins.includes(origin);
    if (origin !== undefined && !allowed) throw new TesseraError("origin_not_allowed", { message: `The origin ${origin.slice(0, 200)} is not allowed for this project.` });

    if (allowed) {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Access-Control-Allow-Credentials", "true");
      c.header("Access-Control-Expose-Headers", "X-Request-Id");
    }
    c.header("Vary", "Origin");
    if (c.req.method === "OPTIONS") {
      if (!allowed) throw new TesseraError("origin_not_allowed");
      c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", `Content-Type, ${CSRF_HEADER}`);
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    if (!SAFE_METHODS.has(c.req.method)) {
      if (!allowed) throw new TesseraError("origin_not_allowed", { message: "State-changing browser requests need an allowed Origin header." });
      if (!c.req.header(CSRF_HEADER)) throw new TesseraError("csrf_header_missing");
    }
    c.set("project", project);
    c.set("client", { ...c.get("client"), throttleIp: c.get("client")?.ip }); // the browser is the end user
    await next();
  };
}

/**
 * Cookie names carry the project id: projects served from one host would otherwise share one cookie,
 * so logging into one overwrote another's session and a request to one could clear another's.
 */
const sessionCookieName = (project: Project) => `tessera_session_${project.projectId}`;
/** What `tessera/hono` reads by default (it derives the same name from its verifier's project id). */
export const jwtCookieName = (project: Project) => `tessera_session_jwt_${project.projectId}`;

/** `__Host-` prefixed (no Domain, Path=/, Secure) unless the project shares cookies across a domain. */
function cookieOptions(project: Project, maxAgeSeconds: number, httpOnly: boolean) {
  const base = { httpOnly, secure: true, sameSite: "Lax" as const, path: "/", maxAge: Math.max(0, maxAgeSeconds) };
  return project.settings.cookieDomain ? { ...base, domain: project.settings.cookieDomain } : { ...base, prefix: "host" as const };
}

export function setSessionCookies(c: Context, project: Project, tokens: { sessionToken?: string; jwt: string; expiresAt: Date; now: Date }) {
  const maxAge = Math.floor((tokens.expiresAt.getTime() - tokens.now.getTime()) / 1000);
  if (tokens.sessionToken) setCookie(c, sessionCookieName(project), tokens.sessionToken, cookieOptions(project, maxAge, true));
  const jwtOptions = cookieOptions(project, maxAge, !project.settings.exposeJwtToScripts);
  // The JWT cookie never takes the __Host- prefix: an app backend on the cookie domain must find it by one name.
  setCookie(c, jwtCookieName(project), tokens.jwt, { ...jwtOptions, prefix: undefined });
}

export function clearSessionCookies(c: Context, project: Project) {
  const options = cookieOptions(project, 0, true);
  deleteCookie(c, sessionCookieName(project), options);
  deleteCookie(c, jwtCookieName(project), { ...options, prefix: undefined });
}

export function readSessionToken(c: Context, project: Project): string | null {
  const name = sessionCookieName(project);
  const token = project.settings.cookieDomain ? getCookie(c, name) : getCookie(c, name, "host");
  return token ?? null;
}
