/**
 * What an operator can do to a Tessera installation: projects and their settings, secrets, public
 * tokens, signing keys, the audit log. One interface, two ways there: in-process over the database
 * (local.ts; the management API's routes and the CLI when no server runs) and over the management API
 * (remote.ts; the CLI while a server runs, which an embedded PGlite database requires). Results are
 * the JSON the API sends and `--json` prints.
 */
import type { RbacPolicy } from "../domain/rbac.js";

export interface ProjectSummary {
  project_id: string;
  name: string;
  created_at: string;
}

export interface ProjectDetails extends ProjectSummary {
  live: boolean;
  settings: Record<string, unknown>;
}

export interface CreatedProjectWire {
  project_id: string;
  secret_id: string;
  secret: string;
  public_token: string;
}

export interface KeyWire {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  activate_at: string | null;
  activated_at: string | null;
  deactivated_at: string | null;
  retired_at: string | null;
}

export interface EventWire {
  event_id: number;
  at: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  actor: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
}

export interface TrustedTokenProfileWire {
  profile_id: string;
  project_id: string;
  name: string;
  issuer: string;
  audience: string;
  jwks_url: string;
  attribute_mapping: Record<string, string>;
  can_jit_provision: boolean;
  created_at: string;
}

export interface TrustedTokenProfileRequest {
  name: string;
  issuer: string;
  audience: string;
  jwks_url: string;
  attribute_mapping?: Record<string, unknown> | undefined;
  can_jit_provision?: boolean | undefined;
}

export interface RbacPolicyWire {
  project_id: string;
  policy: RbacPolicy;
}

/** One line's fate in `tessera users import` (never the hash). */
export type ImportLineResult =
  | { line: number; status: "created" | "updated" | "already_present"; user_id: string }
  | { line: number; status: "rejected"; error_type: string; error_message: string };

export interface Management {
  listProjects(): Promise<ProjectSummary[]>;
  createProject(input: { name: string; live?: boolean | undefined; settings?: unknown }): Promise<CreatedProjectWire>;
  showProject(projectId: string): Promise<ProjectDetails>;
  /** `settings` is a partial patch; nested limits merge key by key. */
  updateProject(projectId: string, input: { name?: string | undefined; settings?: unknown }): Promise<ProjectDetails & { changed: string[] }>;
  createSecret(projectId: string): Promise<{ project_id: string; secret_id: string; secret: string }>;
  revokeSecret(projectId: string, secretId: string): Promise<{ project_id: string; secret_id: string; revoked: true }>;
  createPublicToken(projectId: string): Promise<{ project_id: string; public_token: string }>;
  listKeys(projectId: string): Promise<KeyWire[]>;
  rotateKeys(projectId: string, options: { now: boolean }): Promise<{ project_id: string; moves: { kid: string; to: string }[] }>;
  /** Signing keys, then every sealed session token, under the first master key. */
  reencryptKeys(): Promise<{ reencrypted: number; session_tokens: number; session_tokens_unreadable: number }>;
  showRbacPolicy(projectId: string): Promise<RbacPolicyWire>;
  /** Validated whole (a bad policy changes nothing), audited as `project.updated`, served at once. */
  setRbacPolicy(projectId: string, policy: unknown): Promise<RbacPolicyWire>;
  listEvents(projectId: string, filter: { userId?: string | undefined; limit: number }): Promise<EventWire[]>;
  createTrustedTokenProfile(projectId: string, input: TrustedTokenProfileRequest): Promise<TrustedTokenProfileWire>;
  listTrustedTokenProfiles(projectId: string): Promise<TrustedTokenProfileWire[]>;
  deleteTrustedTokenProfile(projectId: string, profileId: string): Promise<{ project_id: string; profile_id: string; deleted: true }>;
  /** One batch of an import file (passwords.migrate's fields per line); one transaction. */
  importUsers(projectId: string, lines: { line: number; user: unknown }[]): Promise<{ results: ImportLineResult[] }>;
}

export const EVENTS_LIMIT = { default: 100, max: 10_000 } as const;
