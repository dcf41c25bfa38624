import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { DomainDeps } from "../../domain/ports.js";
import type { Project, RequestContext } from "../../domain/types.js";
import { TesseraError } from "../../errors.js";
import { authenticateSession, listSessions, revokeAllSessionsOfUser, revokeSession } from "../../domain/sessions.js";
import { getUser } from "../../domain/users.js";
import { requestContext, type AppEnv } from "../context.js";
import { AuthorizationCheckWire, CustomClaims, Envelope, Id, SessionDurationMinutes, SessionWire, sessionWire, UserWire, userWire, VerdictWire } from "../wire.js";
import { envelope, errorExample, issued, SESSION_ID, SESSION_TOKEN, session, user } from "../examples.js";
import { errorContent, jsonRequest, ok, secured } from "./route-kit.js";

const SessionToken = z.string().max(1024);
const SessionJwt = z.string().max(16_384);
const refused = (reason: string) => errorExample("session_not_found", { details: { reason } });
const sessionNotFound = { not_found: refused("not_found") };

/** The exchange's body; the Hono route and the Node fast path (exchange-fast-path.ts) validate with it. */
export const ExchangeBody = z.object({
  session_token: SessionToken.optional(),
  session_jwt: SessionJwt.optional(),
  session_duration_minutes: SessionDurationMinutes.optional(),
  session_custom_claims: CustomClaims.optional(),
  authorization_check: AuthorizationCheckWire.optional(),
});

/** The exchange itself, the same on both paths: a valid body in, the 200's body out. */
export async function exchange(deps: DomainDeps, project: Project, body: z.infer<typeof ExchangeBody>, requestId: string, context: RequestContext) {
  const issued = await authenticateSession(deps, project, {
    sessionToken: body.session_token,
    sessionJwt: body.session_jwt,
    durationMinutes: body.session_duration_minutes,
    customClaims: body.session_custom_claims,
    authorizationCheck: body.authorization_check,
    context,
  });
  return {
    request_id: requestId,
    status_code: 200 as const,
    session: sessionWire(issued.session, issued.user),
    session_token: issued.sessionToken,
    session_jwt: issued.jwt.jwt,
    user: userWire(issued.user),
    ...(issued.verdict ? { verdict: issued.verdict } : {}),
  };
}

const authenticateRoute = createRoute({
  method: "post",
  path: "/v1/sessions/authenticate",
  tags: ["sessions"],
  summary: "The exchange: check a session in the database and mint a fresh JWT",
  description:
    "Takes session_token or session_jwt, not both (too_many_session_arguments); an expired JWT is accepted when its signature verifies: it names the session. Always checks the session in Postgres. A refusal is session_not_found with error_details.reason (not_found, revoked, expired, idle_timeout, user_deleted). Answers with the session's session_token either way (empty only for a JWT-named session made before migration 0006).",
  ...secured,
  request: jsonRequest(
    ExchangeBody,
    { session_token: SESSION_TOKEN, session_duration_minutes: 60, session_custom_claims: { tenant: "acme" }, authorization_check: { resource_id: "documents", action: "write" } },
  ),
  responses: {
    ...ok(
      z.object({ ...Envelope, session: SessionWire, session_token: z.string(), session_jwt: z.string(), user: UserWire, verdict: VerdictWire.optional() }),
      { ...envelope, ...issued, user, verdict: { authorized: true, granting_roles: ["editor"] } },
      { revoked: refused("revoked"), expired: refused("expired"), idle_timeout: refused("idle_timeout"), user_deleted: refused("user_deleted"), not_found: refused("not_found") },
    ),
    400: { description: "Invalid request", ...errorContent({ too_many_session_arguments: errorExample("too_many_session_arguments"), bad_request: errorExample("bad_request", { message: "session_duration_minutes: Too big: expected number to be <=527040" }) }) },
    403: { description: "The user's roles do not grant authorization_check", ...errorContent({ consumer_session_authorization_error: errorExample("consumer_session_authorization_error") }) },
  },
});

const revokeRoute = createRoute({
  method: "post",
  path: "/v1/sessions/revoke",
  tags: ["sessions"],
  summary: "Revoke a session by exactly one of session_id, session_token, session_jwt — or all of a user's sessions by user_id",
  description: "`user_id` is an extension beyond Stytch's API: it revokes every live session of the user and answers `revoked_sessions` with their count.",
  ...secured,
  request: jsonRequest(
    z.object({ session_id: Id.optional(), session_token: SessionToken.optional(), session_jwt: SessionJwt.optional(), user_id: Id.optional() }),
    { session_id: SESSION_ID },
  ),
  responses: ok(z.object({ ...Envelope, revoked_sessions: z.number().int().optional() }), envelope, sessionNotFound),
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/sessions",
  tags: ["sessions"],
  summary: "List a user's live sessions",
  ...secured,
  request: { query: z.object({ user_id: Id }) },
  responses: ok(z.object({ ...Envelope, sessions: z.array(SessionWire) }), { ...envelope, sessions: [session] }, { user_not_found: errorExample("user_not_found") }),
});

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  app.openapi(authenticateRoute, async (c) => c.json(await exchange(deps, c.get("project"), c.req.valid("json"), c.get("requestId"), requestContext(c)), 200));

  app.openapi(revokeRoute, async (c) => {
    const b = c.req.valid("json");
    if (b.user_id !== undefined) {
      if (b.session_id ?? b.session_token ?? b.session_jwt) throw new TesseraError("bad_request", { message: "Provide user_id alone, or exactly one of session_id, session_token, session_jwt." });
      const count = await revokeAllSessionsOfUser(deps, c.get("project"), b.user_id);
      return c.json({ request_id: c.get("requestId"), status_code: 200, revoked_sessions: count }, 200);
    }
    await revokeSession(deps, c.get("project"), { sessionId: b.session_id, sessionToken: b.session_token, sessionJwt: b.session_jwt, context: requestContext(c) });
    return c.json({ request_id: c.get("requestId"), status_code: 200 }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const project = c.get("project");
    const user = await getUser(deps, project, c.req.valid("query").user_id);
    const sessions = await listSessions(deps, project, user.userId);
    return c.json({ request_id: c.get("requestId"), status_code: 200, sessions: sessions.map((s) => sessionWire(s, user)) }, 200);
  });
}
