import { z } from "@hono/zod-openapi";
import { effectiveRoles } from "../domain/rbac.js";
import type { IssuedSession } from "../domain/sessions.js";
import type { Session, User } from "../domain/types.js";
import * as example from "./examples.js";

/**
 * The Stytch wire format (shapes of the official `stytch` package's b2c type definitions), as zod
 * schemas: one definition validates requests and documents /openapi.json.
 */

const json = z.record(z.string(), z.unknown());

/** Ids in paths and queries: bounded, printable, no NUL (Postgres cannot store it; a 500 would follow). */
export const Id = z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, "must be an id (printable ASCII, no spaces)");
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/** Integer fields are range-checked here; floats, strings and huge values are 400s, never surprises. */
export const SessionDurationMinutes = z.number().int().min(5).max(527_040).openapi({ description: "Session lifetime from now, 5 to 527040 minutes." });
export const CustomClaims = json.openapi({ description: "Top-level JWT claims; null deletes a key. At most 4 KB as JSON." });

export const Name = z
  .object({ first_name: z.string().max(256).optional(), middle_name: z.string().max(256).optional(), last_name: z.string().max(256).optional() })
  .openapi("UserName", { example: example.name });

export const Attributes = z.object({ ip_address: z.string().optional(), user_agent: z.string().optional() }).openapi("Attributes", { example: example.attributes });

export const UserWire = z
  .object({
    user_id: z.string(),
    emails: z.array(z.object({ email_id: z.string(), email: z.string(), verified: z.boolean() })),
    status: z.string(),
    phone_numbers: z.array(z.unknown()),
    webauthn_registrations: z.array(z.unknown()),
    providers: z.array(z.unknown()),
    totps: z.array(z.unknown()),
    crypto_wallets: z.array(z.unknown()),
    biometric_registrations: z.array(z.unknown()),
    is_locked: z.boolean(),
    lock_expires_at: z.string().optional(),
    roles: z.array(z.string()),
    name: Name,
    created_at: z.string(),
    password: z.object({ password_id: z.string(), requires_reset: z.boolean() }).nullable(),
    trusted_metadata: json,
    untrusted_metadata: json,
    external_id: z.string(),
  })
  .openapi("User", { example: example.user });

export const SessionWire = z
  .object({
    session_id: z.string(),
    user_id: z.string(),
    authentication_factors: z.array(json),
    roles: z.array(z.string()),
    started_at: z.string(),
    last_accessed_at: z.string(),
    expires_at: z.string(),
    attributes: Attributes,
    custom_claims: json,
  })
  .openapi("Session", { example: example.session });

export const Envelope = { request_id: z.string(), status_code: z.number().int() };

export const ErrorWire = z
  .object({
    status_code: z.number().int(),
    request_id: z.string(),
    error_type: z.string(),
    error_message: z.string(),
    error_url: z.string(),
    error_details: json.optional(),
  })
  .openapi("Error", { example: example.errorExample("session_not_found", { details: { reason: "revoked" } }) });

export function userWire(user: User): z.infer<typeof UserWire> {
  return {
    user_id: user.userId,
    emails: user.email && user.emailId ? [{ email_id: user.emailId, email: user.email, verified: user.emailVerified }] : [],
    status: user.status,
    phone_numbers: [],
    webauthn_registrations: [],
    providers: [],
    totps: [],
    crypto_wallets: [],
    biometric_registrations: [],
    is_locked: !!user.lockedUntil,
    ...(user.lockedUntil ? { lock_expires_at: iso(user.lockedUntil) } : {}),
    roles: user.roles,
    name: { first_name: user.firstName ?? "", middle_name: user.middleName ?? "", last_name: user.lastName ?? "" },
    created_at: iso(user.createdAt),
    password: user.passwordId ? { password_id: user.passwordId, requires_reset: user.passwordRequiresReset } : null,
    trusted_metadata: user.trustedMetadata,
    untrusted_metadata: user.untrustedMetadata,
    external_id: user.externalId ?? "",
  };
}

export function sessionWire(session: Session, user: Pick<User, "roles">): z.infer<typeof SessionWire> {
  return {
    session_id: session.sessionId,
    user_id: session.userId,
    authentication_factors: session.authenticationFactors,
    roles: effectiveRoles(user.roles),
    started_at: iso(session.startedAt),
    last_accessed_at: iso(session.lastAccessedAt),
    expires_at: iso(session.expiresAt),
    attributes: { ip_address: session.attributes.ip_address ?? "", user_agent: session.attributes.user_agent ?? "" },
    custom_claims: session.customClaims,
  };
}

/** The session half of login and exchange responses; empty strings and null when no session was made. */
export const IssuedWire = {
  session: SessionWire.nullable(),
  session_token: z.string(),
  session_jwt: z.string(),
};

export function issuedWire(issued: IssuedSession | null) {
  return issued
    ? { session: sessionWire(issued.session, issued.user), session_token: issued.sessionToken, session_jwt: issued.jwt.jwt }
    : { session: null, session_token: "", session_jwt: "" };
}

/** Stytch's `SessionsAuthorizationCheck`: a refusal is 403 `consumer_session_authorization_error`. */
export const AuthorizationCheckWire = z
  .strictObject({ resource_id: z.string().min(1).max(128), action: z.string().min(1).max(128) })
  .openapi("AuthorizationCheck", { example: { resource_id: "documents", action: "read" } });
export const VerdictWire = z.object({ authorized: z.boolean(), granting_roles: z.array(z.string()) }).openapi("AuthorizationVerdict", { example: { authorized: true, granting_roles: ["editor"] } });

const PermissionWire = z.object({ resource_id: z.string(), actions: z.array(z.string()) });
export const RbacPolicyWire = z
  .object({
    roles: z.array(z.object({ role_id: z.string(), description: z.string(), permissions: z.array(PermissionWire) })),
    resources: z.array(z.object({ resource_id: z.string(), description: z.string(), actions: z.array(z.string()) })),
    scopes: z.array(z.unknown()).max(0).openapi({ description: "Stytch Connected Apps scopes; always empty in Tessera." }),
  })
  .openapi("RbacPolicy", { example: example.rbacPolicy });
