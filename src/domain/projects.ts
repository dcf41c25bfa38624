import type { Clock, Store } from "./ports.js";
import { newId, newSecret, sha256Hex } from "./tokens.js";
import type { JwtAlgorithm, Project, ProjectEnv, ProjectSettings, RateLimitSettings } from "./types.js";
import { createSigningKey } from "./keys.js";
import type { Vault } from "./ports.js";

export const defaultProjectSettings: ProjectSettings = Object.freeze({
  defaultSessionDurationMinutes: 60,
  maxSessionDurationMinutes: 527_040,
  idleTimeoutMinutes: null,
  absoluteLifetimeMinutes: null,
  jwtLifetimeSeconds: 300,
  jwtAlgorithm: "RS256" as JwtAlgorithm,
  keyRotationIntervalDays: 30,
  issuerFormat: "public_url" as const,
  allowedOrigins: [],
  cookieDomain: null,
  exposeJwtToScripts: false,
  selfSignUp: true,
  rateLimits: Object.freeze({
    loginFailuresPerEmail: 5,
    loginFailureWindowSeconds: 900,
    lockoutSeconds: 60,
    maxLockoutSeconds: 3600,
    loginAttemptsPerIpPerMinute: 30,
    signUpsPerIpPerHour: 20,
    signUpsPerProjectPerMinute: 100,
    exchangesPerSessionPerMinute: 120,
    apiCallsPerSecretPerMinute: 6000,
  }),
});

/** Stored or given settings over the defaults; nested limits merge key by key, so new ones get defaults. */
export function resolveSettings(partial: Partial<Omit<ProjectSettings, "rateLimits">> & { rateLimits?: Partial<RateLimitSettings> } = {}): ProjectSettings {
  return { ...defaultProjectSettings, ...partial, rateLimits: { ...defaultProjectSettings.rateLimits, ...partial.rateLimits } };
}

export const SESSION_DURATION_MINUTES = { min: 5, max: 527_040 } as const;

type ProjectDeps = { store: Store; vault: Vault; clock: Clock };

export interface CreatedProject {
  project: Project;
  secretId: string;
  secret: string;
  publicToken: string;
}

/** A project is born with one secret, one public token and one current signing key. */
export async function createProject(
  deps: ProjectDeps,
  input: { name: string; env?: ProjectEnv; settings?: Parameters<typeof resolveSettings>[0] },
): Promise<CreatedProject> {
  const env = input.env ?? "test";
  const settings = resolveSettings(input.settings);
  return deps.store.transaction(async (store) => {
    const project = await store.projects.create({ projectId: newId("project", env), name: input.name, settings });
    const { secretId, secret } = await addSecret({ ...deps, store }, project);
    const publicToken = await addPublicToken({ ...deps, store }, project);
    await createSigningKey({ ...deps, store }, project.projectId, settings.jwtAlgorithm, "current");
    await store.events.record({ projectId: project.projectId, type: "project.created", actor: "cli" });
    return { project, secretId, secret, publicToken };
  });
}

export async function addSecret(deps: Pick<ProjectDeps, "store">, project: Project) {
  const secretId = newId("secret", project.env);
  const secret = newSecret(project.env);
  await deps.store.projects.addSecret({ secretId, projectId: project.projectId, secretHash: sha256Hex(secret) });
  await deps.store.events.record({ projectId: project.projectId, type: "secret.created", actor: "cli", details: { secret_id: secretId } });
  return { secretId, secret };
}

export async function revokeSecret(deps: ProjectDeps, projectId: string, secretId: string): Promise<boolean> {
  const revoked = await deps.store.projects.revokeSecret(projectId, secretId, deps.clock.now());
  if (revoked) await deps.store.events.record({ projectId, type: "secret.revoked", actor: "cli", details: { secret_id: secretId } });
  return revoked;
}

export async function addPublicToken(deps: Pick<ProjectDeps, "store">, project: Project): Promise<string> {
  const publicToken = newId("public-token", project.env);
  await deps.store.projects.addPublicToken({ publicToken, projectId: project.projectId });
  await deps.store.events.record({ projectId: project.projectId, type: "public_token.created", actor: "cli" });
  return publicToken;
}

