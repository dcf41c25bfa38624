import { sql } from "drizzle-orm";
import type { RbacPolicy } from "../sdk/rbac-policy.js";
import { bigserial, boolean, customType, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/** The one source of the schema: drizzle-kit generates `migrations/` from this file. */

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const createdAt = () => tz("created_at").notNull().defaultNow();
/** Postgres' 64-bit transaction id; read as text (it does not fit a JS number exactly). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

export const projects = pgTable("projects", {
  projectId: text("project_id").primaryKey(),
  name: text("name").notNull(),
  /** ProjectSettings as JSON; validated with defaults by the domain on read. */
  settings: jsonb("settings").notNull().default({}),
  /** Stytch's consumer RBAC policy, validated by the domain when set; null: none set (every check refused). */
  rbacPolicy: jsonb("rbac_policy").$type<RbacPolicy>(),
  createdAt: createdAt(),
  updatedAt: tz("updated_at").notNull().defaultNow(),
});

export const projectSecrets = pgTable(
  "project_secrets",
  {
    secretId: text("secret_id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    /** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
    secretHash: text("secret_hash").notNull(),
    createdAt: createdAt(),
    lastUsedAt: tz("last_used_at"),
    revokedAt: tz("revoked_at"),
  },
  (t) => [index("project_secrets_project_idx").on(t.projectId)],
);

export const publicTokens = pgTable(
  "public_tokens",
  {
    publicToken: text("public_token").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    createdAt: createdAt(),
    revokedAt: tz("revoked_at"),
  },
  (t) => [index("public_tokens_project_idx").on(t.projectId)],
);

export const users = pgTable(
  "users",
  {
    userId: text("user_id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    email: text("email"),
    emailId: text("email_id"),
    emailVerified: boolean("email_verified").notNull().default(false),
    firstName: text("first_name"),
    middleName: text("middle_name"),
    lastName: text("last_name"),
    /** active | pending | deleted. Deleted users keep their row so their sessions can say why they died. */
    status: text("status").notNull().default("active"),
    roles: jsonb("roles").$type<string[]>().notNull().default([]),
    trustedMetadata: jsonb("trusted_metadata").$type<Record<string, unknown>>().notNull().default({}),
    untrustedMetadata: jsonb("untrusted_metadata").$type<Record<string, unknown>>().notNull().default({}),
    externalId: text("external_id"),
    createdAt: createdAt(),
    updatedAt: tz("updated_at").notNull().defaultNow(),
    deletedAt: tz("deleted_at"),
  },
  (t) => [
    // Emails are unique per project, case-insensitively, among users that are not deleted.
    uniqueIndex("users_project_email_idx").on(t.projectId, sql`lower(${t.email})`).where(sql`${t.deletedAt} is null`),
    index("users_project_created_idx").on(t.projectId, t.createdAt, t.userId),
  ],
);

export const passwords = pgTable("passwords", {
  userId: text("user_id").primaryKey().references(() => users.userId, { onDelete: "cascade" }),
  passwordId: text("password_id").notNull(),
  /** argon2id PHC string. */
  hash: text("hash").notNull(),
  requiresReset: boolean("requires_reset").notNull().default(false),
  createdAt: createdAt(),
  updatedAt: tz("updated_at").notNull().defaultNow(),
});

export const sessions = pgTable(
  "sessions",
  {
    sessionId: text("session_id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    userId: text("user_id").notNull().references(() => users.userId, { onDelete: "cascade" }),
    /** SHA-256 (hex) of the session token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    /**
     * The token itself, sealed under the master key (AES-256-GCM, the session id as associated data), so a
     * JWT-authenticated exchange can return it as Stytch does. Null for sessions made before migration 0006.
     */
    tokenSealed: text("token_sealed"),
    startedAt: tz("started_at").notNull(),
    lastAccessedAt: tz("last_accessed_at").notNull(),
    expiresAt: tz("expires_at").notNull(),
    revokedAt: tz("revoked_at"),
    revokedReason: text("revoked_reason"),
    attributes: jsonb("attributes").$type<{ ip_address?: string; user_agent?: string }>().notNull().default({}),
    authenticationFactors: jsonb("authentication_factors").$type<Record<string, unknown>[]>().notNull().default([]),
    customClaims: jsonb("custom_claims").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex("sessions_token_hash_idx").on(t.tokenHash),
    index("sessions_user_live_idx").on(t.projectId, t.userId).where(sql`${t.revokedAt} is null`),
  ],
);

export const signingKeys = pgTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    alg: text("alg").notNull(),
    publicJwk: jsonb("public_jwk").$type<Record<string, unknown>>().notNull(),
    /** AES-256-GCM envelope of the private JWK under the master key, with the kid as associated data. */
    privateKeyEncrypted: text("private_key_encrypted").notNull(),
    /** next → current → previous → retired */
    state: text("state").notNull(),
    createdAt: createdAt(),
    /** When a `next` key is planned to start signing; published at least the publication lead before. */
    activateAt: tz("activate_at"),
    activatedAt: tz("activated_at"),
    deactivatedAt: tz("deactivated_at"),
    retiredAt: tz("retired_at"),
  },
  (t) => [index("signing_keys_project_state_idx").on(t.projectId, t.state)],
);

export const events = pgTable(
  "events",
  {
    eventId: bigserial("event_id", { mode: "number" }).primaryKey(),
    projectId: text("project_id").notNull(),
    type: text("type").notNull(),
    userId: text("user_id"),
    sessionId: text("session_id"),
    actor: text("actor"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    /**
     * The writing transaction. An id (event_id) is assigned at insert, not at commit, so a reader that
     * resumes from "ids after the last one seen" skips rows of transactions that commit late. The feed
     * orders by (tx_id, event_id) and reads only transactions older than every open one (the snapshot's
     * xmin): those can no longer change, so its cursor never passes a row that could still appear.
     */
    txId: xid8("tx_id").notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    index("events_project_created_idx").on(t.projectId, t.createdAt),
    index("events_user_idx").on(t.projectId, t.userId),
    // The revocation feed reads only these types, in commit-safe order, per project.
    index("events_feed_tx_idx").on(t.projectId, t.txId, t.eventId).where(sql`${t.type} in ('session.revoked', 'user.updated')`),
  ],
);

/** Issuers whose JWTs `sessions.attest` exchanges for sessions (Stytch's trusted auth token profiles). */
export const trustedTokenProfiles = pgTable(
  "trusted_token_profiles",
  {
    profileId: text("profile_id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.projectId, { onDelete: "cascade" }),
    name: text("name").notNull(),
    issuer: text("issuer").notNull(),
    audience: text("audience").notNull(),
    jwksUrl: text("jwks_url").notNull(),
    /** Stytch attribute → claim name (email, token_id). */
    attributeMapping: jsonb("attribute_mapping").$type<Record<string, string>>().notNull().default({}),
    canJitProvision: boolean("can_jit_provision").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [index("trusted_token_profiles_project_idx").on(t.projectId)],
);
