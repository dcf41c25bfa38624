import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { TesseraError } from "../../errors.js";
import { listOwnSessions, revokeOwnSession, signUpInBrowser } from "../../domain/browser.js";
import { authenticatePassword } from "../../domain/passwords.js";
import type { DomainDeps } from "../../domain/ports.js";
import { authenticateSession, revokeSession, type IssuedSession } from "../../domain/sessions.js";
import { clearSessionCookies, readSessionToken, setSessionCookies } from "../browser-guard.js";
import { requestContext, type AppEnv } from "../context.js";
import { Envelope, Id, SessionWire, sessionWire, UserWire, userWire } from "../wire.js";
import { EMAIL, envelope, errorExample, PASSWORD, session, SESSION_ID, user } from "../examples.js";
import { errorContent, jsonRequest } from "./route-kit.js";

const PublicToken = z.object({ public_token: Id });
const Credentials = z.object({ email: z.string().max(1024), password: z.string().max(4096) });
const responses = <T extends z.ZodType>(schema: T, example: z.output<T>) => ({
  200: { description: "Success", content: { "application/json": { schema, example } } },
  401: { description: "No live session, or bad credentials", ...errorContent({ no_session: errorExample("no_session", { details: { reason: "revoked" } }), unauthorized_credentials: errorExample("unauthorized_credentials") }) },
  403: { description: "Origin not allowed or CSRF header missing", ...errorContent({ origin_not_allowed: errorExample("origin_not_allowed"), csrf_header_missing: errorExample("csrf_header_missing") }) },
  429: { description: "Too many requests (logins, sign-ups); see Retry-After", ...errorContent({ too_many_requests: errorExample("too_many_requests") }) },
});
/** What the SDK needs to schedule refreshes without reading the JWT; never the session token. */
const SessionState = z.object({
  ...Envelope,
  session: SessionWire,
  user: UserWire,
  jwt_issued_at: z.string(),
  jwt_expires_at: z.string(),
  session_jwt: z.string().optional().openapi({ description: "Only when the project exposes the JWT to scripts." }),
});

const path = (p: string) => `/sdk/v1/{public_token}${p}`;
const tags = ["browser"];
const withBody = <T extends z.ZodType>(schema: T, example: z.input<T>) => ({ params: PublicToken, ...jsonRequest(schema, example) });
const credentials = { email: EMAIL, password: PASSWORD };
const state = { ...envelope, session, user, jwt_issued_at: "2026-01-15T12:00:00.000Z", jwt_expires_at: "2026-01-15T12:05:00.000Z" };

const signUpRoute = createRoute({ method: "post", path: path("/signup"), tags, summary: "Sign up (when allowed); the same answer whether or not the email was taken", request: withBody(Credentials, credentials), responses: responses(z.object(Envelope), envelope) });
const logInRoute = createRoute({ method: "post", path: path("/login"), tags, summary: "Log in with email and password; sets the session cookies", request: withBody(Credentials, credentials), responses: responses(SessionState, state) });
const refreshRoute = createRoute({ method: "post", path: path("/sessions/authenticate"), tags, summary: "Refresh: check the session cookie, mint a fresh JWT", request: { params: PublicToken }, responses: responses(SessionState, state) });
const logOutRoute = createRoute({ method: "post", path: path("/logout"), tags, summary: "Revoke the current session and clear the cookies", request: { params: PublicToken }, responses: responses(z.object(Envelope), envelope) });
const listRoute = createRoute({ method: "get", path: path("/sessions"), tags, summary: "The signed-in user's live sessions", request: { params: PublicToken }, responses: responses(z.object({ ...Envelope, sessions: z.array(SessionWire.extend({ current: z.boolean() })) }), { ...envelope, sessions: [{ ...session, roles: ["stytch_user"], current: true }] }) });
const revokeRoute = createRoute({ method: "post", path: path("/sessions/revoke"), tags, summary: "Revoke another of the signed-in user's sessions", request: withBody(z.object({ session_id: Id }), { session_id: SESSION_ID }), responses: responses(z.object(Envelope), envelope) });

export function registerSdkRoutes(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  const tokenOf = (c: Context<AppEnv>) => {
    const token = readSessionToken(c, c.get("project"));
    if (!token) throw new TesseraError("no_session", { details: { reason: "no_session_cookie" } });
    return token;
  };
  const sessionState = (c: Context<AppEnv>, issued: IssuedSession) => {
    const project = c.get("project");
    setSessionCookies(c, project, { sessionToken: issued.sessionToken || undefined, jwt: issued.jwt.jwt, expiresAt: issued.session.expiresAt, now: deps.clock.now() });
    return c.json(
      {
        request_id: c.get("requestId"),
        status_code: 200,
        session: sessionWire(issued.session, issued.user),
        user: userWire(issued.user),
        jwt_issued_at: issued.jwt.issuedAt.toISOString(),
        jwt_expires_at: issued.jwt.expiresAt.toISOString(),
        ...(project.settings.exposeJwtToScripts ? { session_jwt: issued.jwt.jwt } : {}),
      },
      200,
    );
  };
  /**
   * A dead session is a 401 to the browser (the SDK then signs out) and, on a POST, its cookies are
   * cleared. Never on a GET: any site can make a browser send one (a link, an image), and logging
   * users out must not be that easy.
   */
  const clearingOnRefusal = async <T>(c: Context<AppEnv>, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof TesseraError) || (error.type !== "session_not_found" && error.type !== "no_session")) throw error;
      if (c.req.method !== "GET") clearSessionCookies(c, c.get("project"));
      throw new TesseraError("no_session", { details: error.details, cause: error });
    }
  };

  app.openapi(signUpRoute, async (c) => {
    await signUpInBrowser(deps, c.get("project"), c.req.valid("json"), requestContext(c));
    return c.json({ request_id: c.get("requestId"), status_code: 200 }, 200);
  });

  app.openapi(logInRoute, async (c) => {
    const project = c.get("project");
    const { email, password } = c.req.valid("json");
    const { issued } = await authenticatePassword(deps, project, { email, password, durationMinutes: project.settings.defaultSessionDurationMinutes }, requestContext(c));
    return sessionState(c, issued!);
  });

  app.openapi(refreshRoute, async (c) =>
    clearingOnRefusal(c, async () => sessionState(c, await authenticateSession(deps, c.get("project"), { sessionToken: tokenOf(c), context: requestContext(c) }))),
  );

  app.openapi(logOutRoute, async (c) => {
    const project = c.get("project");
    const token = readSessionToken(c, project);
    clearSessionCookies(c, project);
    if (token) await revokeSession(deps, project, { sessionToken: token, context: requestContext(c) }).catch((error: unknown) => {
      if (!(error instanceof TesseraError && error.type === "session_not_found")) throw error; // already gone: logged out all the same
    });
    return c.json({ request_id: c.get("requestId"), status_code: 200 }, 200);
  });

  app.openapi(listRoute, async (c) =>
    clearingOnRefusal(c, async () => {
      const { sessions, currentSessionId } = await listOwnSessions(deps, c.get("project"), tokenOf(c));
      const user = { roles: [] as string[] };
      return c.json({ request_id: c.get("requestId"), status_code: 200, sessions: sessions.map((s) => ({ ...sessionWire(s, user), current: s.sessionId === currentSessionId })) }, 200);
    }),
  );

  app.openapi(revokeRoute, async (c) =>
    clearingOnRefusal(c, async () => {
      await revokeOwnSession(deps, c.get("project"), tokenOf(c), c.req.valid("json").session_id, requestContext(c));
      return c.json({ request_id: c.get("requestId"), status_code: 200 }, 200);
    }),
  );
}
