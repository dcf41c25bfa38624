import { TesseraError } from "../errors.js";
import { applySettingsPatch } from "./project-settings.js";
import type { Clock, Store } from "./ports.js";
import { newId, newSecret, sha256Hex } from "./tokens.js";
import type { JwtAlgorithm, Project, ProjectEnv, ProjectSettings, RateLimitSettings } from "./types.js";
import { prepareSigningKey, saveSigningKey } from "./keys.js";
import type { Vault } from "./ports.js";

export const defaultProjectSettings: ProjectSettings = Object.freeze({
  defaultSessionDurationMinutes: 60,
  maxSessionDurationMinutes: 527_040,
  idleTimeoutMinutes: null,
  absoluteLifetimeMinutes: null,
  jwtLifetimeSeconds: 300,
  jwtAlgorithm: "RS256" as JwtAlgorithm,
  keyRotationIntervalDays: 30,
  issuerFormat: "stytch" as const,
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
    // A whole backend shares one secret: 600,000 a minute is 10,000 calls a second, twice the 5,000 exchanges
    // a second a busy backend may make; the limit is there to cap a leaked secret, not to pace an app.
    apiCallsPerSecretPerMinute: 600_000,
  }),
});

/** Stored or given settings over the defaults; nested limits merge key by key, so new ones get defaults. */
export function resolveSettings(partial: Partial<Omit<ProjectSettings, "rateLimits">> & { rateLimits?: Partial<RateLimitSettings> } = {}): ProjectSettings {
  return { ...defaultProjectSettings, ...partial, rateLimits: { ...defaultProjectSettings.rateLimits, ...partial.rateLimits } };
}

export { SESSION_DURATION_MINUTES } from "./project-settings.js";

type ProjectDeps = { store: Store; vault: Vault; clock: Clock };

export interface CreatedProject {
  project: Project;
  secretId: string;
  secret: string;
  publicToken: string;
}

/** A project is born with one secret, one public token and one current signing key. `settings` is a validated patch over the defaults. */
export async function createProject(deps: ProjectDeps, input: { name: string; env?: ProjectEnv; settings?: unknown }, actor = "cli"): Promise<CreatedProject> {
  const env = input.env ?? "test";
  const { settings } = applySettingsPatch(defaultProjectSettings, input.settings ?? {});
  const projectId = newId("project", env);
  const key = await prepareSigningKey(deps, projectId, settings.jwtAlgorithm, "current");
  return deps.store.transaction(async (store) => {
    const project = await store.projects.create({ projectId, name: input.name, settings });
    const { secretId, secret } = await addSecret({ ...deps, store }, project, actor);
    const publicToken = await addPublicToken({ ...deps, store }, project, actor);
    await saveSigningKey({ store }, key);
    await store.events.record({ projectId: project.projectId, type: "project.created", actor });
    return { project, secretId, secret, publicToken };
  });
}

export async function addSecret(deps: Pick<ProjectDeps, "store">, project: Project, actor = "cli") {
  const secretId = newId("secret", project.env);
  const secret = newSecret(project.env);
  await deps.store.transaction(async (store) => {
    await store.projects.addSecret({ secretId, projectId: project.projectId, secretHash: sha256Hex(secret) });
    await store.events.record({ projectId: project.projectId, type: "secret.created", actor, details: { secret_id: secretId } });
  });
  return { secretId, secret };
}

export async function revokeSecret(deps: ProjectDeps, projectId: string, secretId: string, actor = "cli"): Promise<boolean> {
  return deps.store.transaction(async (store) => {
    const revoked = await store.projects.revokeSecret(projectId, secretId, deps.clock.now());
    if (revoked) await store.events.record({ projectId, type: "secret.revoked", actor, details: { secret_id: secretId } });
    return revoked;
  });
}

export async function addPublicToken(deps: Pick<ProjectDeps, "store">, project: Project, actor = "cli"): Promise<string> {
  const publicToken = newId("public-token", project.env);
  await deps.store.transaction(async (store) => {
    await store.projects.addPublicToken({ publicToken, projectId: project.projectId });
    await store.events.record({ projectId: project.projectId, type: "public_token.created", actor });
  });
  return publicToken;
}

export async function getProject(deps: Pick<ProjectDeps, "store">, projectId: string): Promise<Project> {
  const project = await deps.store.projects.get(projectId);
  if (!project) throw new TesseraError("project_not_found", { message: `no project ${projectId}` });
  return project;
}

/**
 * Renames a project and/or changes settings (a partial patch, nested limits merged key by key),
 * validated whole, audited with the names of what changed, in one transaction.
 */
export async function updateProject(
  deps: ProjectDeps,
  projectId: string,
  input: { name?: string | undefined; settings?: unknown },
  actor: string,
): Promise<{ project: Project; changed: string[] }> {
  return deps.store.transaction(async (store) => {
    const current = await getProject({ store }, projectId);
    const { settings, changed } = input.settings === undefined ? { settings: current.settings, changed: [] } : applySettingsPatch(current.settings, input.settings);
    const name = input.name ?? current.name;
    if (name !== current.name) changed.unshift("name");
    if (changed.length === 0) return { project: current, changed };
    const project = await store.projects.update(projectId, { name, settings }, deps.clock.now());
    await store.events.record({ projectId, type: "project.updated", actor, details: { changed } });
    return { project: project!, changed };
  });
}
