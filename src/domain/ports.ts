import type { JWTVerifyGetKey } from "jose";
import type { RbacPolicy } from "../sdk/rbac-policy.js";
import type { AuditEvent, KeyState, Project, ProjectSettings, Session, SigningKeyRecord, TrustedTokenProfile, User } from "./types.js";

/**
 * Storage ports. One Postgres implementation (src/store) serves both the real server and the
 * embedded PGlite twin. Each method is shaped by the query that needs it.
 */

export interface ProjectRepo {
  create(input: { projectId: string; name: string; settings: ProjectSettings }): Promise<Project>;
  get(projectId: string): Promise<Project | null>;
  /** Replaces name and settings; null when there is no such project. */
  update(projectId: string, input: { name: string; settings: ProjectSettings }, now: Date): Promise<Project | null>;
  /** Replaces the project's RBAC policy (already validated); false when there is no such project. */
  setRbacPolicy(projectId: string, policy: RbacPolicy, now: Date): Promise<boolean>;
  list(): Promise<Project[]>;
  count(): Promise<number>;
  addSecret(input: { secretId: string; projectId: string; secretHash: string }): Promise<void>;
  /** Live (not revoked) secret hashes of a project, for constant-time comparison. */
  liveSecrets(projectId: string): Promise<{ secretId: string; secretHash: string; lastUsedAt: Date | null }[]>;
  /** Records use at most once a minute per secret: a conditional write, skipped when recent. */
  touchSecret(secretId: string, now: Date): Promise<void>;
  /** Returns false when no live secret had that id in that project. */
  revokeSecret(projectId: string, secretId: string, now: Date): Promise<boolean>;
  addPublicToken(input: { publicToken: string; projectId: string }): Promise<void>;
  /** The project a live public token identifies. */
  byPublicToken(publicToken: string): Promise<Project | null>;
}

/** One users.search operand; `none` matches no user (a factor Tessera users never have). */
export type UserFilter =
  | { kind: "emails" | "emailIds" | "userIds"; values: string[] }
  | { kind: "emailFuzzy" | "nameFuzzy"; value: string }
  | { kind: "emailVerified" | "passwordExists"; value: boolean }
  | { kind: "status"; value: "active" | "pending" }
  | { kind: "createdBetween"; after?: Date; before?: Date }
  | { kind: "none" };

export interface UserSearch {
  /** AND: every filter holds; OR: at least one does. No filters: every live user. */
  operator: "AND" | "OR";
  filters: UserFilter[];
  /** Keyset cursor: results strictly after this (created_at, user_id). */
  after?: { createdAt: Date; userId: string };
  limit: number;
}

export interface UserRepo {
  /** Throws DuplicateEmailError when a live user of the project has that email. */
  create(user: Omit<User, "passwordId" | "passwordRequiresReset">, password?: { passwordId: string; hash: string }): Promise<User>;
  /** Live (not deleted) user. */
  get(projectId: string, userId: string): Promise<User | null>;
  /** Live user by email (case-insensitive), with its password hash, for logins. */
  findByEmailForLogin(projectId: string, email: string): Promise<{ user: User; passwordHash: string | null } | null>;
  update(projectId: string, userId: string, patch: Partial<Pick<User, "firstName" | "middleName" | "lastName" | "roles" | "trustedMetadata" | "untrustedMetadata" | "externalId" | "emailVerified">>, now: Date): Promise<User | null>;
  /** Live users with any of these emails (case-insensitive), with their password hashes: the import's one read per batch. */
  findByEmails(projectId: string, emails: string[]): Promise<{ user: User; passwordHash: string | null }[]>;
  /** Inserts many users (and their passwords) in two statements; call it in a transaction. Throws DuplicateEmailError on a taken email. */
  createMany(entries: { user: Omit<User, "passwordId" | "passwordRequiresReset">; password?: { passwordId: string; hash: string } | undefined }[]): Promise<User[]>;
  /**
   * In a transaction: holds the live user's row against deletion until commit (FOR SHARE; a deletion
   * waits, then sees what this transaction wrote). False when the user is not live (any more).
   */
  holdLive(projectId: string, userId: string): Promise<boolean>;
  /** Marks the user deleted and frees its email. Returns false when there was no live user. */
  markDeleted(projectId: string, userId: string, now: Date): Promise<boolean>;
  setPassword(userId: string, password: { passwordId: string; hash: string }, now: Date): Promise<void>;
  search(projectId: string, query: UserSearch): Promise<{ users: User[]; total: number }>;
  /** The live user holding this email id. */
  findByEmailId(projectId: string, emailId: string): Promise<User | null>;
  /** The live user holding this password id. */
  findByPasswordId(projectId: string, passwordId: string): Promise<User | null>;
  /**
   * Sets (or with null removes) the live user's email; `onlyEmailId` makes it conditional on the current
   * one. False when no row matched. Throws DuplicateEmailError when another live user has the email.
   */
  setEmail(projectId: string, userId: string, email: { email: string; emailId: string } | null, now: Date, onlyEmailId?: string): Promise<boolean>;
  /** False when the user had no password with that id. */
  deletePassword(userId: string, passwordId: string): Promise<boolean>;
}

export interface SessionWithUser {
  session: Session;
  /** The user row, deleted or not, so a refusal can say why. */
  user: User;
}

export interface SessionRepo {
  create(session: Session & { tokenHash: string }): Promise<void>;
  /** The exchange's hot read: session and user in one query. */
  findByTokenHash(projectId: string, tokenHash: string): Promise<SessionWithUser | null>;
  findById(projectId: string, sessionId: string): Promise<SessionWithUser | null>;
  /** Writes only the given fields; the caller decides when a write is due. */
  update(sessionId: string, patch: Partial<Pick<Session, "lastAccessedAt" | "expiresAt" | "authenticationFactors" | "customClaims">>): Promise<void>;
  /** Returns the ids it revoked (those that were live). */
  revoke(projectId: string, sessionId: string, reason: string, now: Date): Promise<boolean>;
  revokeAllForUser(projectId: string, userId: string, reason: string, now: Date, exceptSessionId?: string): Promise<string[]>;
  listLive(projectId: string, userId: string, now: Date): Promise<Session[]>;
}

/** The sealed session tokens, for re-sealing under a new master key; kept apart from the exchange's hot port. */
export interface SealedTokenRepo {
  /** Sessions with a sealed token, by session id after `afterSessionId`, at most `limit`. */
  page(afterSessionId: string, limit: number): Promise<{ sessionId: string; tokenSealed: string }[]>;
  replace(sessionId: string, tokenSealed: string): Promise<void>;
}

export interface TrustedTokenProfileRepo {
  create(profile: TrustedTokenProfile): Promise<void>;
  get(projectId: string, profileId: string): Promise<TrustedTokenProfile | null>;
  /** Oldest first. */
  list(projectId: string): Promise<TrustedTokenProfile[]>;
  /** False when the project had no such profile. */
  delete(projectId: string, profileId: string): Promise<boolean>;
}

/**
 * The key sets of trusted issuers (jose's createRemoteJWKSet per profile: cached, refetched on an
 * unknown kid at most once per cooldown, a bounded fetch). Built once, by the composition root.
 */
export interface TrustedJwks {
  keysFor(profile: Pick<TrustedTokenProfile, "profileId" | "jwksUrl">): JWTVerifyGetKey;
  forget(profileId: string): void;
}

export interface SigningKeyRepo {
  insert(key: SigningKeyRecord): Promise<void>;
  /** Every key of the project, retired ones too, oldest first. */
  listAll(projectId: string): Promise<SigningKeyRecord[]>;
  /** Moves a key from one state to another only if it is still in `from`; false when it was not. */
  transition(kid: string, from: KeyState, to: KeyState, at: Date): Promise<boolean>;
  setActivateAt(kid: string, activateAt: Date): Promise<void>;
  /** Every stored envelope, for re-encryption under a new master key. */
  listEnvelopes(): Promise<{ kid: string; privateKeyEncrypted: string }[]>;
  updateEnvelope(kid: string, privateKeyEncrypted: string): Promise<void>;
  /** Keys in states next, current, previous (published in the JWKS). */
  listPublished(projectId: string): Promise<SigningKeyRecord[]>;
  /** The most recently activated current key of any project: the start-up probe of the master key. */
  newestCurrent(): Promise<SigningKeyRecord | null>;
  /** When each project's current key activated, oldest first, at most `limit` (the key-age metric). */
  currentActivations(limit: number): Promise<{ projectId: string; activatedAt: Date }[]>;
}

/**
 * A position in the revocation feed. Events are ordered by (writing transaction, event id), and only
 * transactions older than every still-open one are read, so no row can later appear before a cursor.
 */
export interface FeedCursor {
  /** Postgres xid8, as decimal text. */
  txId: string;
  eventId: number;
}

export interface FeedRow {
  cursor: FeedCursor;
  type: "session.revoked" | "user.updated";
  userId: string;
  sessionId: string | null;
  at: Date;
}

export interface FeedPage {
  rows: FeedRow[];
  /** Committed rows exist past the page that wait for an older transaction to end: read again soon. */
  pending: boolean;
}

export interface EventLog {
  /** Appends an audit event, timestamped by the injected clock. */
  record(event: AuditEvent): Promise<void>;
  /** Appends several events in one statement (all of a user's revoked sessions). */
  recordMany(events: AuditEvent[]): Promise<void>;
  /** Newest first; for `tessera events`. */
  list(projectId: string, filter: { userId?: string; limit: number }): Promise<(AuditEvent & { eventId: number; at: Date })[]>;
  /** The revocation feed's source: session revocations and user changes after `after`, newer than `since`, in feed order. */
  feedSince(projectId: string, after: FeedCursor | null, since: Date, limit: number): Promise<FeedPage>;
}

/**
 * Tells every server instance that a project has new feed events in Postgres (Redis pub/sub, or an
 * in-process twin). A notification carries no data: readers fetch from Postgres, the source of truth.
 * A second instance on its own channel tells them a project's settings or secrets changed (the project cache).
 */
export interface FeedNotifier {
  /** Best effort and retried in the background; never throws. Call it after the transaction commits. */
  notify(projectId: string): void;
  /** Returns the unsubscribe function. */
  subscribe(projectId: string, listener: () => void): () => void;
  close(): Promise<void>;
}

export interface Store {
  projects: ProjectRepo;
  users: UserRepo;
  sessions: SessionRepo;
  sealedTokens: SealedTokenRepo;
  trustedTokenProfiles: TrustedTokenProfileRepo;
  signingKeys: SigningKeyRepo;
  events: EventLog;
  /** Runs `work` in one transaction; the store it gets is bound to that transaction. */
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in a transaction holding the named Postgres advisory lock, or returns null at once when
   * another instance holds it: background duties run on exactly one instance at a time.
   */
  withAdvisoryLock<T>(lockId: number, work: (store: Store) => Promise<T>): Promise<{ value: T } | null>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
}

export { DatabaseUnavailableError, DuplicateEmailError } from "./store-errors.js";

export interface Clock {
  now(): Date;
}

/** Encrypts private keys and session tokens at rest (AES-256-GCM under the master key); `aad` binds the ciphertext to its row's id. */
export interface Vault {
  encrypt(plaintext: string, aad: string): string;
  decrypt(envelope: string, aad: string): string;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Always does the full work, even for the dummy hash of an unknown email. `password` is normalised;
   * `asTyped` is what the user typed, which hashes imported from other systems were made from.
   */
  verify(hash: string, password: string, asTyped?: string): Promise<boolean>;
  /** True when the hash was made with weaker parameters than the current ones, or imported (passwords.migrate). */
  needsRehash(hash: string): boolean;
  /** A valid hash of a random password: verifying against it costs what a real login costs. */
  readonly dummyHash: string;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RateLimitRule {
  /** Names the counter family, e.g. "login-ip". */
  name: string;
  points: number;
  durationSeconds: number;
}

/** `consumed`: points used in the current window, this call included. */
export type RateLimitVerdict = { allowed: true; consumed: number } | { allowed: false; consumed: number; retryAfterSeconds: number };

/**
 * Counters shared by every instance (Redis), or per process (the in-process twin, and the fallback
 * while Redis is down: limits degrade to per-instance, never to none).
 */
export interface RateLimiter {
  /** Atomic on every instance: of N concurrent calls for one key, at most `points` are allowed. */
  consume(rule: RateLimitRule, key: string): Promise<RateLimitVerdict>;
  /**
   * For high-volume limits that cap abuse rather than pace attempts (API calls per secret): counted in
   * process and shared with the other instances in the background, so the call never waits. Across N
   * instances the limit can be exceeded by what they admit in one share interval (redis/shared-counter.ts).
   */
  consumeShared(rule: RateLimitRule, key: string): RateLimitVerdict;
  /** Gives back one point consumed for work that was not done. */
  refund(rule: RateLimitRule, key: string): Promise<void>;
  /** Seconds the key is still blocked under the rule, 0 when it is not. */
  blockedFor(rule: RateLimitRule, key: string): Promise<number>;
  /** Puts the key over its limit for `seconds` from now; then it starts afresh. */
  block(rule: RateLimitRule, key: string, seconds: number): Promise<void>;
  reset(rule: RateLimitRule, key: string): Promise<void>;
}

/** What domain functions may ask for; each takes a `Pick` of the few it needs. */
export interface DomainDeps {
  store: Store;
  clock: Clock;
  keys: import("./keys.js").SigningKeys;
  vault: Vault;
  hasher: PasswordHasher;
  strength: import("./password-strength.js").PasswordStrength;
  feed: FeedNotifier;
  limiter: RateLimiter;
  /** The server's public base URL: the default JWT issuer. */
  publicUrl: string;
  trustedJwks: TrustedJwks;
}
