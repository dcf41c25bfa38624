import { resolveSettings } from "../domain/projects.js";
import { EMPTY_POLICY } from "../domain/rbac.js";
import { projectEnv } from "../domain/tokens.js";
import type { Project, ProjectSettings, Session, SigningKeyRecord, User } from "../domain/types.js";
import type { passwords, projects, sessions, signingKeys, users } from "./schema.js";

/** Row → domain record mappers. Settings merge over defaults so older rows gain new settings. */

export const toProject = (row: typeof projects.$inferSelect): Project => ({
  projectId: row.projectId,
  name: row.name,
  env: projectEnv(row.projectId),
  settings: resolveSettings(row.settings as Partial<ProjectSettings>),
  rbacPolicy: row.rbacPolicy ?? EMPTY_POLICY,
  createdAt: row.createdAt,
});

export const toUser = (row: typeof users.$inferSelect, password: Pick<typeof passwords.$inferSelect, "passwordId" | "requiresReset"> | null): User => ({
  userId: row.userId,
  projectId: row.projectId,
  email: row.email,
  emailId: row.emailId,
  emailVerified: row.emailVerified,
  firstName: row.firstName,
  middleName: row.middleName,
  lastName: row.lastName,
  status: row.status as User["status"],
  roles: row.roles,
  trustedMetadata: row.trustedMetadata,
  untrustedMetadata: row.untrustedMetadata,
  externalId: row.externalId,
  passwordId: password?.passwordId ?? null,
  passwordRequiresReset: password?.requiresReset ?? false,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export const toSession = (row: typeof sessions.$inferSelect): Session => ({
  sessionId: row.sessionId,
  projectId: row.projectId,
  userId: row.userId,
  startedAt: row.startedAt,
  lastAccessedAt: row.lastAccessedAt,
  expiresAt: row.expiresAt,
  revokedAt: row.revokedAt,
  revokedReason: row.revokedReason,
  attributes: row.attributes,
  authenticationFactors: row.authenticationFactors as Session["authenticationFactors"],
  customClaims: row.customClaims,
  tokenSealed: row.tokenSealed,
});

export const toSigningKey = (row: typeof signingKeys.$inferSelect): SigningKeyRecord => ({
  kid: row.kid,
  projectId: row.projectId,
  alg: row.alg as SigningKeyRecord["alg"],
  publicJwk: row.publicJwk,
  privateKeyEncrypted: row.privateKeyEncrypted,
  state: row.state as SigningKeyRecord["state"],
  createdAt: row.createdAt,
  activateAt: row.activateAt,
  activatedAt: row.activatedAt,
  deactivatedAt: row.deactivatedAt,
  retiredAt: row.retiredAt,
});

/** Postgres' unique_violation, however the driver (postgres.js, PGlite) or drizzle wraps it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
