import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { attestSession } from "../../domain/attest.js";
import type { DomainDeps } from "../../domain/ports.js";
import { requestContext, type AppEnv } from "../context.js";
import { envelope, errorExample, issued, SESSION_JWT, USER_ID, user } from "../examples.js";
import { CustomClaims, Envelope, Id, IssuedWire, issuedWire, SessionDurationMinutes, UserWire, userWire } from "../wire.js";
import { errorContent, jsonRequest, ok, secured } from "./route-kit.js";

const PROFILE_ID = "trusted-token-profile-test-4b1f0c1e-7d2a-4a86-9a0e-5c3f2b1d8e77";
const invalidToken = (type: "invalid_token" | "jwt_invalid_audience" | "jwt_invalid_issuer" | "jwt_invalid_claims", message?: string) => errorExample(type, message ? { message } : {});

const attestRoute = createRoute({
  method: "post",
  path: "/v1/sessions/attest",
  tags: ["sessions"],
  summary: "Exchange a JWT from a trusted issuer (a trusted token profile) for a session",
  description:
    "The token is verified against the profile's JWKS (RS256, ES256 or EdDSA; the profile's iss and aud; exp, nbf, iat required; no jku, x5u, jwk, x5c, crit, b64 headers). Its email claim (attribute_mapping.email, default `email`) names the user, created when the profile can JIT-provision. With session_token or session_jwt the factor joins that session; else a session is made when session_duration_minutes is given.",
  ...secured,
  request: jsonRequest(
    z.object({
      profile_id: Id,
      token: z.string().max(16_384),
      session_duration_minutes: SessionDurationMinutes.optional(),
      session_custom_claims: CustomClaims.optional(),
      session_token: z.string().max(1024).optional(),
      session_jwt: z.string().max(16_384).optional(),
      telemetry_id: z.string().max(256).optional(),
    }),
    { profile_id: PROFILE_ID, token: SESSION_JWT, session_duration_minutes: 60 },
  ),
  responses: {
    ...ok(z.object({ ...Envelope, user_id: z.string(), user: UserWire, ...IssuedWire }), { ...envelope, user_id: USER_ID, user, ...issued }, {
      trusted_token_profile_not_found: errorExample("trusted_token_profile_not_found"),
      user_not_found: errorExample("user_not_found", { message: "No user has the token's email, and the profile does not provision users." }),
    }),
    401: {
      description: "The token was refused",
      ...errorContent({
        invalid_token: invalidToken("invalid_token"),
        expired: invalidToken("jwt_invalid_claims", "The token has expired."),
        jwt_invalid_audience: invalidToken("jwt_invalid_audience"),
        jwt_invalid_issuer: invalidToken("jwt_invalid_issuer"),
      }),
    },
    503: { description: "The profile's JWKS cannot be fetched now", ...errorContent({ service_unavailable: errorExample("service_unavailable", { message: "The profile's JWKS did not answer in time; retry later." }) }) },
  },
});

export function registerAttestRoute(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  app.openapi(attestRoute, async (c) => {
    const b = c.req.valid("json");
    const { user: attested, issued: session } = await attestSession(
      deps,
      c.get("project"),
      { profileId: b.profile_id, token: b.token, durationMinutes: b.session_duration_minutes, customClaims: b.session_custom_claims, sessionToken: b.session_token, sessionJwt: b.session_jwt },
      requestContext(c),
    );
    return c.json({ request_id: c.get("requestId"), status_code: 200, user_id: attested.userId, user: userWire(session?.user ?? attested), ...issuedWire(session) }, 200);
  });
}
