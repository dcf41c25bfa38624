import { z } from "zod";
import { TesseraError } from "../errors.js";
import { effectiveRoles, grantingRoles, STYTCH_USER_ROLE, WILDCARD_ACTION, type AuthorizationCheck, type RbacPolicy } from "../sdk/rbac-policy.js";
import type { Clock, Store } from "./ports.js";
import type { Project, User } from "./types.js";

export { effectiveRoles, STYTCH_USER_ROLE, type AuthorizationCheck, type RbacPolicy } from "../sdk/rbac-policy.js";

/**
 * A project's RBAC policy (Stytch's consumer format): validation when an operator sets it, and the
 * server's authorization check. The evaluation itself is `grantingRoles`, shared with tessera/verify.
 */

export const RBAC_LIMITS = { resources: 500, roles: 500, actionsPerResource: 100, idLength: 128, descriptionLength: 1000 } as const;

const STYTCH_USER_DESCRIPTION = "Granted to every user (implicit).";

/** The policy of a project that never set one: `stytch_user` with no permissions, so every check is refused. */
export const EMPTY_POLICY: RbacPolicy = Object.freeze({
  roles: [{ role_id: STYTCH_USER_ROLE, description: STYTCH_USER_DESCRIPTION, permissions: [] }],
  resources: [],
  scopes: [],
});

const id = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, { error: `${what} must not be empty` })
    .max(RBAC_LIMITS.idLength, { error: `${what} must be at most ${RBAC_LIMITS.idLength} characters` })
    .regex(/^[\x21-\x7e]*$/, { error: `${what} must be printable ASCII without spaces` });
const description = z.string({ error: "description must be a string" }).max(RBAC_LIMITS.descriptionLength, { error: `description must be at most ${RBAC_LIMITS.descriptionLength} characters` }).default("");

const policySchema = z.strictObject({
  resources: z
    .array(z.strictObject({ resource_id: id("resource_id"), description, actions: z.array(id("action"), { error: "actions must be a list of strings" }).max(RBAC_LIMITS.actionsPerResource) }), { error: "resources must be a list" })
    .max(RBAC_LIMITS.resources),
  roles: z
    .array(z.strictObject({ role_id: id("role_id"), description, permissions: z.array(z.strictObject({ resource_id: id("resource_id"), actions: z.array(id("action")).min(1, { error: "a permission needs at least one action" }) }), { error: "permissions must be a list" }) }), { error: "roles must be a list" })
    .max(RBAC_LIMITS.roles),
  scopes: z.array(z.unknown()).max(0, { error: "scopes (Stytch Connected Apps) are not supported: leave the list empty" }).default([]),
});

const duplicates = (values: string[]) => [...new Set(values.filter((value, i) => values.indexOf(value) !== i))];

/** Rules that relate one part of a policy to another; each problem names where it is. */
function crossChecks(policy: RbacPolicy): string[] {
  const problems: string[] = [];
  const actionsOf = new Map(policy.resources.map((r) => [r.resource_id, r.actions]));
  for (const dup of duplicates(policy.resources.map((r) => r.resource_id))) problems.push(`resource "${dup}" is defined twice`);
  for (const dup of duplicates(policy.roles.map((r) => r.role_id))) problems.push(`role "${dup}" is defined twice`);
  for (const resource of policy.resources) {
    // Stytch reserves the prefix for its own resources (stytch.self, …), which Tessera does not define.
    if (resource.resource_id.startsWith("stytch")) problems.push(`resource "${resource.resource_id}": ids starting with "stytch" are reserved`);
    if (resource.resource_id === WILDCARD_ACTION) problems.push(`resource "*": "*" is not a resource id`);
    if (resource.actions.includes(WILDCARD_ACTION)) problems.push(`resource "${resource.resource_id}": "*" is not an action (it is the wildcard in role permissions)`);
    for (const dup of duplicates(resource.actions)) problems.push(`resource "${resource.resource_id}": action "${dup}" is listed twice`);
  }
  for (const role of policy.roles) {
    for (const dup of duplicates(role.permissions.map((p) => p.resource_id))) problems.push(`role "${role.role_id}": resource "${dup}" has two permissions (list its actions in one)`);
    for (const permission of role.permissions) {
      const where = `role "${role.role_id}", resource "${permission.resource_id}"`;
      const actions = actionsOf.get(permission.resource_id);
      if (!actions) {
        problems.push(`${where}: no such resource in resources`);
        continue;
      }
      for (const dup of duplicates(permission.actions)) problems.push(`${where}: action "${dup}" is listed twice`);
      for (const action of permission.actions) if (action !== WILDCARD_ACTION && !actions.includes(action)) problems.push(`${where}: the resource has no action "${action}" (it has ${actions.map((a) => `"${a}"`).join(", ") || "none"})`);
    }
  }
  return problems;
}

/**
 * A policy as an operator wrote it → the stored form: descriptions default to "", and `stytch_user`
 * is added (with no permissions) when the policy does not define it. `invalid_rbac_policy` lists
 * every problem, each with where it is.
 */
export function validatePolicy(raw: unknown): RbacPolicy {
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
      if (issue.code === "unrecognized_keys") return `${where}unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
      return `${where}${issue.message}`;
    });
    throw invalid(problems);
  }
  const policy = parsed.data as RbacPolicy;
  const problems = crossChecks(policy);
  if (problems.length > 0) throw invalid(problems);
  if (!policy.roles.some((role) => role.role_id === STYTCH_USER_ROLE)) {
    policy.roles = [{ role_id: STYTCH_USER_ROLE, description: STYTCH_USER_DESCRIPTION, permissions: [] }, ...policy.roles];
  }
  return policy;
}

function invalid(problems: string[]): TesseraError {
  const shown = problems.slice(0, 20);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : "";
  return new TesseraError("invalid_rbac_policy", { message: `The RBAC policy is invalid: ${shown.join("; ")}${more}.`, details: { problems: shown } });
}

export interface AuthorizationVerdict {
  authorized: true;
  granting_roles: string[];
}

/**
 * The server's verdict for a live session's user, from the project's current policy. Refused
 * (403, Stytch's `consumer_session_authorization_error`) unless some role the user holds grants it.
 */
export function authorize(project: Project, user: Pick<User, "roles">, check: AuthorizationCheck): AuthorizationVerdict {
  const granting = grantingRoles(project.rbacPolicy, user.roles, check);
  if (granting.length === 0) throw new TesseraError("consumer_session_authorization_error");
  return { authorized: true, granting_roles: granting };
}

/** Replaces the project's policy; the change and its `project.updated` event are one transaction. */
export async function setRbacPolicy(deps: { store: Store; clock: Clock }, projectId: string, raw: unknown, actor: string): Promise<RbacPolicy> {
  const policy = validatePolicy(raw);
  return deps.store.transaction(async (store) => {
    if (!(await store.projects.setRbacPolicy(projectId, policy, deps.clock.now()))) throw new TesseraError("project_not_found", { message: `no project ${projectId}` });
    // project.updated: whatever caches projects (the policy is part of one) drops its copy on this event.
    await store.events.record({ projectId, type: "project.updated", actor, details: { changed: ["rbac_policy"], roles: policy.roles.length, resources: policy.resources.length } });
    return policy;
  });
}

