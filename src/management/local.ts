import { TesseraError } from "../errors.js";
import { importUsers } from "../domain/password-migration.js";
import { forceRotation, reencryptKeys } from "../domain/key-rotation.js";
import type { SigningKeys } from "../domain/keys.js";
import { resealSessionTokens } from "../domain/sealed-tokens.js";
import type { Clock, Store, TrustedJwks, Vault } from "../domain/ports.js";
import { createTrustedTokenProfile, deleteTrustedTokenProfile } from "../domain/trusted-token-profiles.js";
import { setRbacPolicy } from "../domain/rbac.js";
import { addPublicToken, addSecret, createProject, getProject, revokeSecret, updateProject } from "../domain/projects.js";
import type { Project, SigningKeyRecord, TrustedTokenProfile } from "../domain/types.js";
import type { KeyWire, Management, ProjectDetails, TrustedTokenProfileWire } from "./management.js";

type LocalDeps = { store: Store; vault: Vault; clock: Clock; keys?: SigningKeys; trustedJwks?: TrustedJwks };

const details = (project: Project): ProjectDetails => ({
  project_id: project.projectId,
  name: project.name,
  live: project.env === "live",
  created_at: project.createdAt.toISOString(),
  settings: project.settings as unknown as Record<string, unknown>,
});

const iso = (date: Date | null) => date?.toISOString() ?? null;
const keyWire = (k: SigningKeyRecord): KeyWire => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt.toISOString(),
  activate_at: iso(k.activateAt),
  activated_at: iso(k.activatedAt),
  deactivated_at: iso(k.deactivatedAt),
  retired_at: iso(k.retiredAt),
});

const profileWire = (p: TrustedTokenProfile): TrustedTokenProfileWire => ({
  profile_id: p.profileId,
  project_id: p.projectId,
  name: p.name,
  issuer: p.issuer,
  audience: p.audience,
  jwks_url: p.jwksUrl,
  attribute_mapping: p.attributeMapping as Record<string, string>,
  can_jit_provision: p.canJitProvision,
  created_at: p.createdAt.toISOString(),
});

/** The management operations over the database. `actor` is recorded on audit events ("cli", "admin-api"). */
export function createLocalManagement(deps: LocalDeps, actor: string): Management {
  return {
    async listProjects() {
      return (await deps.store.projects.list()).map((p) => ({ project_id: p.projectId, name: p.name, created_at: p.createdAt.toISOString() }));
    },
    async createProject(input) {
      const created = await createProject(deps, { name: input.name, env: input.live ? "live" : "test", settings: input.settings }, actor);
      return { project_id: created.project.projectId, secret_id: created.secretId, secret: created.secret, public_token: created.publicToken };
    },
    async showProject(projectId) {
      return details(await getProject(deps, projectId));
    },
    async updateProject(projectId, input) {
      const { project, changed } = await updateProject(deps, projectId, input, actor);
      return { ...details(project), changed };
    },
    async createSecret(projectId) {
      const created = await addSecret(deps, await getProject(deps, projectId), actor);
      return { project_id: projectId, secret_id: created.secretId, secret: created.secret };
    },
    async revokeSecret(projectId, secretId) {
      await getProject(deps, projectId);
      if (!(await revokeSecret(deps, projectId, secretId, actor))) throw new TesseraError("secret_not_found", { message: `no live secret ${secretId} in project ${projectId}` });
      return { project_id: projectId, secret_id: secretId, revoked: true };
    },
    async createPublicToken(projectId) {
      return { project_id: projectId, public_token: await addPublicToken(deps, await getProject(deps, projectId), actor) };
    },
    async listKeys(projectId) {
      await getProject(deps, projectId);
      return (await deps.store.signingKeys.listAll(projectId)).map(keyWire);
    },
    async rotateKeys(projectId, options) {
      const moves = await forceRotation(deps, await getProject(deps, projectId), { immediately: options.now });
      deps.keys?.invalidate(projectId); // this process signs with the new key at once; others within their key cache
      return { project_id: projectId, moves };
    },
    async reencryptKeys() {
      const reencrypted = await reencryptKeys(deps);
      const tokens = await resealSessionTokens(deps);
      return { reencrypted, session_tokens: tokens.resealed, session_tokens_unreadable: tokens.unreadable };
    },
    async showRbacPolicy(projectId) {
      return { project_id: projectId, policy: (await getProject(deps, projectId)).rbacPolicy };
    },
    async setRbacPolicy(projectId, policy) {
      return { project_id: projectId, policy: await setRbacPolicy(deps, projectId, policy, actor) };
    },
    async importUsers(projectId, lines) {
      return { results: await importUsers(deps, await getProject(deps, projectId), lines, actor) };
    },
    async listEvents(projectId, filter) {
      await getProject(deps, projectId);
      const rows = await deps.store.events.list(projectId, { limit: filter.limit, ...(filter.userId ? { userId: filter.userId } : {}) });
      return rows.map((e) => ({
        event_id: e.eventId,
        at: e.at.toISOString(),
        type: e.type,
        user_id: e.userId ?? null,
        session_id: e.sessionId ?? null,
        actor: e.actor ?? null,
        ip: e.ip ?? null,
        user_agent: e.userAgent ?? null,
        details: e.details ?? {},
      }));
    },
    async createTrustedTokenProfile(projectId, input) {
      const project = await getProject(deps, projectId);
      const profile = await createTrustedTokenProfile(
        deps,
        project,
        { name: input.name, issuer: input.issuer, audience: input.audience, jwksUrl: input.jwks_url, attributeMapping: input.attribute_mapping, canJitProvision: input.can_jit_provision },
        actor,
      );
      return profileWire(profile);
    },
    async listTrustedTokenProfiles(projectId) {
      await getProject(deps, projectId);
      return (await deps.store.trustedTokenProfiles.list(projectId)).map(profileWire);
    },
    async deleteTrustedTokenProfile(projectId, profileId) {
      await deleteTrustedTokenProfile(deps, await getProject(deps, projectId), profileId, actor);
      return { project_id: projectId, profile_id: profileId, deleted: true };
    },
  };
}
