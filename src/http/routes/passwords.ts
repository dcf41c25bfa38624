import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { authenticatePassword, checkStrength, createPasswordUser, resetWithExistingPassword, resetWithSession } from "../../domain/passwords.js";
import { migratePassword, MigrateRequest } from "../../domain/password-migration.js";
import type { DomainDeps } from "../../domain/ports.js";
import { requestContext, type AppEnv } from "../context.js";
import { CustomClaims, Envelope, IssuedWire, issuedWire, Name, SessionDurationMinutes, UserWire, userWire } from "../wire.js";
import { EMAIL, EMAIL_ID, envelope, login, name, PASSWORD, SESSION_TOKEN, USER_ID, user } from "../examples.js";
import { jsonRequest, ok, secured } from "./route-kit.js";

const Email = z.string().max(1024);
/** Generous bound for the wire; the domain enforces the real policy before any hashing. */
const Password = z.string().max(4096);
const SessionOptions = {
  session_duration_minutes: SessionDurationMinutes.optional(),
  session_custom_claims: CustomClaims.optional(),
};
const SessionCredential = { session_token: z.string().max(1024).optional(), session_jwt: z.string().max(16_384).optional() };
const LoginResponse = z.object({ ...Envelope, user_id: z.string(), user: UserWire, ...IssuedWire });
const NEW_PASSWORD = "violet-Tractor-sunrise-91!";

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/passwords",
  tags: ["passwords"],
  summary: "Create a user with a password (and a session when session_duration_minutes is given)",
  ...secured,
  request: jsonRequest(
    z.object({ email: Email, password: Password, name: Name.optional(), trusted_metadata: z.record(z.string(), z.unknown()).optional(), untrusted_metadata: z.record(z.string(), z.unknown()).optional(), ...SessionOptions }),
    { email: EMAIL, password: PASSWORD, name, session_duration_minutes: 60 },
  ),
  responses: ok(LoginResponse.extend({ email_id: z.string() }), { ...login, email_id: EMAIL_ID }),
});

const authenticateRoute = createRoute({
  method: "post",
  path: "/v1/passwords/authenticate",
  tags: ["passwords"],
  summary: "Log in with email and password",
  description: "An unknown email answers exactly like a wrong password (unauthorized_credentials), unlike Stytch's email_not_found.",
  ...secured,
  request: jsonRequest(z.object({ email: Email, password: Password, ...SessionCredential, ...SessionOptions }), { email: EMAIL, password: PASSWORD, session_duration_minutes: 60 }),
  responses: ok(LoginResponse, login),
});

const strengthRoute = createRoute({
  method: "post",
  path: "/v1/passwords/strength_check",
  tags: ["passwords"],
  summary: "Estimate a password's strength (zxcvbn)",
  ...secured,
  request: jsonRequest(z.object({ password: Password, email: Email.optional() }), { password: "ada1815", email: EMAIL }),
  responses: ok(
    z.object({
      ...Envelope,
      valid_password: z.boolean(),
      score: z.number().int(),
      breached_password: z.boolean(),
      strength_policy: z.string(),
      breach_detection_on_create: z.boolean(),
      feedback: z.object({ warning: z.string(), suggestions: z.array(z.string()) }),
    }),
    {
      ...envelope,
      valid_password: false,
      score: 1,
      breached_password: false,
      strength_policy: "zxcvbn",
      breach_detection_on_create: true,
      feedback: { warning: "Dates are easy to guess.", suggestions: ["Use at least 8 characters.", "Add more words that are less common.", "Avoid dates and years that are associated with you."] },
    },
  ),
});

const existingResetRoute = createRoute({
  method: "post",
  path: "/v1/passwords/existing_password/reset",
  tags: ["passwords"],
  summary: "Change a password by giving the current one; revokes the user's other sessions",
  ...secured,
  request: jsonRequest(z.object({ email: Email, existing_password: Password, new_password: Password, ...SessionCredential, ...SessionOptions }), {
    email: EMAIL,
    existing_password: PASSWORD,
    new_password: NEW_PASSWORD,
    session_duration_minutes: 60,
  }),
  responses: ok(LoginResponse, login),
});

const sessionResetRoute = createRoute({
  method: "post",
  path: "/v1/passwords/session/reset",
  tags: ["passwords"],
  summary: "Change a password with a session authenticated in the last 5 minutes; revokes the user's other sessions",
  ...secured,
  request: jsonRequest(z.object({ password: Password, ...SessionCredential, ...SessionOptions }), { password: NEW_PASSWORD, session_token: SESSION_TOKEN }),
  responses: ok(LoginResponse, login),
});

const migrateRoute = createRoute({
  method: "post",
  path: "/v1/passwords/migrate",
  tags: ["passwords"],
  summary: "Import a password hash made elsewhere (bcrypt, scrypt, argon_2i, argon_2id, pbkdf_2, md_5, sha_1, sha_512); creates the user when the email is new",
  description: "The first good login replaces the imported hash with the project's argon2id. An existing user's password is replaced; its profile is left as it is.",
  ...secured,
  request: jsonRequest(MigrateRequest, { email: EMAIL, hash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", hash_type: "bcrypt", name, set_email_verified: true }),
  responses: ok(z.object({ ...Envelope, user_id: z.string(), email_id: z.string(), user_created: z.boolean(), user: UserWire }), {
    ...envelope,
    user_id: USER_ID,
    email_id: EMAIL_ID,
    user_created: true,
    user: { ...user, emails: [{ email_id: EMAIL_ID, email: EMAIL, verified: true }], password: { password_id: "password-test-2f7c1e90-5b3d-4a8e-9c6f-0d1e2a3b4c5d", requires_reset: false } },
  }),
});

export function registerPasswordRoutes(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  const session = (b: { session_duration_minutes?: number | undefined; session_custom_claims?: Record<string, unknown> | undefined; session_token?: string | undefined; session_jwt?: string | undefined }) => ({
    durationMinutes: b.session_duration_minutes,
    customClaims: b.session_custom_claims,
    sessionToken: b.session_token,
    sessionJwt: b.session_jwt,
  });
  const loginBody = (requestId: string, result: Awaited<ReturnType<typeof authenticatePassword>>) => ({
    request_id: requestId,
    status_code: 200,
    user_id: result.user.userId,
    user: userWire(result.user),
    ...issuedWire(result.issued),
  });

  app.openapi(createRouteDef, async (c) => {
    const b = c.req.valid("json");
    const result = await createPasswordUser(
      deps,
      c.get("project"),
      { email: b.email, password: b.password, name: b.name, trustedMetadata: b.trusted_metadata, untrustedMetadata: b.untrusted_metadata, ...session(b) },
      requestContext(c),
    );
    return c.json({ ...loginBody(c.get("requestId"), result), email_id: result.user.emailId ?? "" }, 200);
  });

  app.openapi(authenticateRoute, async (c) => {
    const b = c.req.valid("json");
    const result = await authenticatePassword(deps, c.get("project"), { email: b.email, password: b.password, ...session(b) }, requestContext(c));
    return c.json(loginBody(c.get("requestId"), result), 200);
  });

  app.openapi(migrateRoute, async (c) => {
    const { user, status } = await migratePassword(deps, c.get("project"), c.req.valid("json"), requestContext(c));
    return c.json({ request_id: c.get("requestId"), status_code: 200, user_id: user.userId, email_id: user.emailId ?? "", user_created: status === "created", user: userWire(user) }, 200);
  });

  app.openapi(strengthRoute, async (c) => {
    const b = c.req.valid("json");
    const result = checkStrength(deps, b.password, b.email);
    return c.json(
      {
        request_id: c.get("requestId"),
        status_code: 200,
        valid_password: result.validPassword,
        score: result.score,
        breached_password: result.breachedPassword,
        strength_policy: "zxcvbn",
        breach_detection_on_create: true,
        feedback: result.feedback,
      },
      200,
    );
  });

  app.openapi(existingResetRoute, async (c) => {
    const b = c.req.valid("json");
    const result = await resetWithExistingPassword(
      deps,
      c.get("project"),
      { email: b.email, existingPassword: b.existing_password, newPassword: b.new_password, ...session(b) },
      requestContext(c),
    );
    return c.json(loginBody(c.get("requestId"), result), 200);
  });

  app.openapi(sessionResetRoute, async (c) => {
    const b = c.req.valid("json");
    const result = await resetWithSession(deps, c.get("project"), { password: b.password, ...session(b) }, requestContext(c));
    return c.json(loginBody(c.get("requestId"), result), 200);
  });
}
