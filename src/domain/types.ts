/** Domain records. Plain data; the HTTP layer maps them to the Stytch wire format. */

import type { RbacPolicy } from "../sdk/rbac-policy.js";

export type JwtAlgorithm = "RS256" | "ES256" | "EdDSA";
export type ProjectEnv = "test" | "live";

export interface ProjectSettings {
  defaultSessionDurationMinutes: number;
  maxSessionDurationMinutes: number;
  /** A session dies after this many minutes without an authenticate; null: never idles out. */
  idleTimeoutMinutes: number | null;
  /** No session lives or is extended past started_at + this; null: no cap beyond max duration. */
  absoluteLifetimeMinutes: number | null;
  jwtLifetimeSeconds: number;
  /** Algorithm of the next key made; a change takes effect at the next rotation. */
  jwtAlgorithm: JwtAlgorithm;
  keyRotationIntervalDays: number;
  /** "public_url": iss is PUBLIC_URL; "stytch": iss is `stytch.com/<project_id>`. */
  issuerFormat: "public_url" | "stytch";
  allowedOrigins: string[];
  cookieDomain: string | null;
  /** The session JWT cookie is HttpOnly unless this is set; then browser scripts may read it (getJwt). */
  exposeJwtToScripts: boolean;
  selfSignUp: boolean;
  rateLimits: RateLimitSettings;
}

/** Per-project abuse limits (OWASP ASVS V2.2): failures lock an email out for growing periods. */
export interface RateLimitSettings {
  loginFailuresPerEmail: number;
  loginFailureWindowSeconds: number;
  /** First lockout; each further lockout within a day doubles it, up to maxLockoutSeconds. */
  lockoutSeconds: number;
  maxLockoutSeconds: number;
  loginAttemptsPerIpPerMinute: number;
  /** Browser sign-ups per end-user address, then per project; each one is an argon2 hash and an account. */
  signUpsPerIpPerHour: number;
  signUpsPerProjectPerMinute: number;
  exchangesPerSessionPerMinute: number;
  apiCallsPerSecretPerMinute: number;
}

export interface Project {
  projectId: string;
  name: string;
  env: ProjectEnv;
  settings: ProjectSettings;
  /** Stytch's consumer RBAC policy; a project that never set one has the empty policy (every check refused). */
  rbacPolicy: RbacPolicy;
  createdAt: Date;
}

export interface User {
  userId: string;
  projectId: string;
  email: string | null;
  emailId: string | null;
  emailVerified: boolean;
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  status: "active" | "pending" | "deleted";
  roles: string[];
  trustedMetadata: Record<string, unknown>;
  untrustedMetadata: Record<string, unknown>;
  externalId: string | null;
  passwordId: string | null;
  passwordRequiresReset: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** While logins to the user's email are locked out: when that ends. Set only where the API reads it (withLockState). */
  lockedUntil?: Date | null;
}

export interface AuthenticationFactor {
  type: string;
  delivery_method: string;
  last_authenticated_at: string;
  created_at: string;
  updated_at: string;
  [extra: string]: unknown;
}

export interface SessionAttributes {
  ip_address?: string;
  user_agent?: string;
}

export interface Session {
  sessionId: string;
  projectId: string;
  userId: string;
  startedAt: Date;
  lastAccessedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
  attributes: SessionAttributes;
  authenticationFactors: AuthenticationFactor[];
  customClaims: Record<string, unknown>;
  /** The token sealed under the master key (see sealed-tokens.ts); null for sessions made before migration 0006. */
  tokenSealed?: string | null;
}

export interface SigningKeyRecord {
  kid: string;
  projectId: string;
  alg: JwtAlgorithm;
  publicJwk: Record<string, unknown>;
  privateKeyEncrypted: string;
  state: KeyState;
  createdAt: Date;
  activateAt: Date | null;
  activatedAt: Date | null;
  deactivatedAt: Date | null;
  retiredAt: Date | null;
}

/** An issuer whose JWTs `sessions.attest` exchanges for sessions (Stytch's trusted auth token profile). */
export interface TrustedTokenProfile {
  profileId: string;
  projectId: string;
  name: string;
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Stytch attribute → the token's claim that holds it: `email` (default claim `email`), `token_id` (default `jti`). */
  attributeMapping: { email?: string; token_id?: string };
  canJitProvision: boolean;
  createdAt: Date;
}

export type KeyState = "next" | "current" | "previous" | "retired";

/** Who asked: recorded on audit events and as session attributes. */
export interface RequestContext {
  ip?: string | undefined;
  userAgent?: string | undefined;
  /**
   * The end user's address that per-IP limits count: the caller's own on the browser API; on the
   * backend API only one the backend vouches for (its own address is every user's). Unset: no per-IP limit.
   */
  throttleIp?: string | undefined;
}

export interface AuditEvent {
  projectId: string;
  type:
    | "login.succeeded"
    | "login.failed"
    | "login.locked"
    | "session.created"
    | "session.extended"
    | "session.revoked"
    | "user.created"
    | "user.updated"
    | "user.deleted"
    | "password.changed"
    | "password.deleted"
    | "password.migrated"
    | "key.created"
    | "key.activated"
    | "key.deactivated"
    | "key.retired"
    | "key.reencrypted"
    | "secret.created"
    | "secret.revoked"
    | "project.created"
    | "project.updated"
    | "public_token.created"
    | "trusted_token_profile.created"
    | "trusted_token_profile.deleted";
  userId?: string | null | undefined;
  sessionId?: string | null | undefined;
  actor?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  details?: Record<string, unknown>;
}
