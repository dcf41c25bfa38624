/**
 * Stytch's consumer RBAC model and its one evaluator, free of dependencies so the server
 * (src/domain/rbac.ts) and the verifier (tessera/verify) decide alike from the same code.
 * Shapes are the official `stytch` client's `RBACPolicy` (types/lib/b2c/rbac.d.ts).
 */

export interface RbacPermission {
  resource_id: string;
  /** Actions of the resource, or "*" for every action the resource defines. */
  actions: string[];
}

export interface RbacRole {
  role_id: string;
  description: string;
  permissions: RbacPermission[];
}

export interface RbacResource {
  resource_id: string;
  description: string;
  actions: string[];
}

export interface RbacPolicy {
  roles: RbacRole[];
  resources: RbacResource[];
  /** Connected-app scopes in Stytch; Tessera has none, so always empty. */
  scopes: never[];
}

export interface AuthorizationCheck {
  resource_id: string;
  action: string;
}

/** The role every user has (Stytch predefines it); its permissions are the policy's to give. */
export const STYTCH_USER_ROLE = "stytch_user";
export const WILDCARD_ACTION = "*";

/** A user's effective roles: the implicit `stytch_user` first, then the assigned ones, without repeats. */
export function effectiveRoles(assigned: readonly string[]): string[] {
  return [STYTCH_USER_ROLE, ...new Set(assigned.filter((role) => role !== STYTCH_USER_ROLE))];
}

/**
 * The roles that grant `check`, empty when none does. Fails closed: a resource the policy does not
 * define, an action that resource does not have, a role the policy does not know, or a malformed
 * policy or check grants nothing. `*` in a role's permission means every action the resource
 * defines, never an action it does not.
 */
export function grantingRoles(policy: RbacPolicy | null | undefined, roles: readonly string[], check: AuthorizationCheck): string[] {
  if (!policy || !Array.isArray(policy.roles) || !Array.isArray(policy.resources) || !isCheck(check)) return [];
  const resource = policy.resources.find((r) => r?.resource_id === check.resource_id);
  if (!resource || !Array.isArray(resource.actions) || !resource.actions.includes(check.action) || check.action === WILDCARD_ACTION) return [];
  const held = new Set(effectiveRoles(roles));
  const granting = policy.roles.filter(
    (role) =>
      held.has(role?.role_id) &&
      Array.isArray(role.permissions) &&
      role.permissions.some((p) => p?.resource_id === check.resource_id && Array.isArray(p.actions) && (p.actions.includes(check.action) || p.actions.includes(WILDCARD_ACTION))),
  );
  return [...new Set(granting.map((role) => role.role_id))];
}

export function isCheck(value: unknown): value is AuthorizationCheck {
  const check = value as Partial<AuthorizationCheck> | null;
  return typeof check === "object" && check !== null && typeof check.resource_id === "string" && check.resource_id !== "" && typeof check.action === "string" && check.action !== "";
}
