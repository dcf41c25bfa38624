import { describe, expect, it } from "vitest";
import { EMPTY_POLICY, validatePolicy } from "../../src/domain/rbac.js";
import { TesseraError } from "../../src/errors.js";
import { effectiveRoles, grantingRoles } from "../../src/sdk/rbac-policy.js";
import { check, POLICY } from "./fixtures.js";

/** The problems `validatePolicy` names for a policy, or [] when it is valid. */
function problemsOf(policy: unknown): string[] {
  try {
    validatePolicy(policy);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(TesseraError);
    expect((error as TesseraError).type).toBe("invalid_rbac_policy");
    expect((error as TesseraError).status).toBe(400);
    return (error as TesseraError).details!.problems as string[];
  }
}

const resource = (resource_id: string, actions: string[]) => ({ resource_id, description: "", actions });
const role = (role_id: string, permissions: { resource_id: string; actions: string[] }[]) => ({ role_id, description: "", permissions });

describe("RBAC policy validation", () => {
  it("accepts Stytch's format, defaults descriptions, and adds the implicit stytch_user when missing", () => {
    const policy = validatePolicy({ resources: [{ resource_id: "documents", actions: ["read"] }], roles: [{ role_id: "reader", permissions: [{ resource_id: "documents", actions: ["read"] }] }] });
    expect(policy).toEqual({
      resources: [{ resource_id: "documents", description: "", actions: ["read"] }],
      roles: [
        { role_id: "stytch_user", description: "Granted to every user (implicit).", permissions: [] },
        { role_id: "reader", description: "", permissions: [{ resource_id: "documents", actions: ["read"] }] },
      ],
      scopes: [],
    });
    expect(validatePolicy(POLICY).roles.map((r) => r.role_id)).toEqual(["stytch_user", "editor", "billing"]); // kept as defined
  });

  it("names every problem: duplicates, unknown resources and actions, reserved ids, the misplaced wildcard, unknown fields", () => {
    expect(problemsOf({ resources: [resource("documents", ["read"]), resource("documents", ["write"])], roles: [] })).toEqual(['resource "documents" is defined twice']);
    expect(problemsOf({ resources: [], roles: [role("a", []), role("a", [])] })).toEqual(['role "a" is defined twice']);
    expect(problemsOf({ resources: [resource("documents", ["read", "read"])], roles: [] })).toEqual(['resource "documents": action "read" is listed twice']);
    expect(problemsOf({ resources: [resource("documents", ["read"])], roles: [role("r", [{ resource_id: "document", actions: ["read"] }])] })).toEqual(['role "r", resource "document": no such resource in resources']);
    expect(problemsOf({ resources: [resource("documents", ["read"])], roles: [role("r", [{ resource_id: "documents", actions: ["wirte"] }])] })).toEqual([
      'role "r", resource "documents": the resource has no action "wirte" (it has "read")',
    ]);
    expect(problemsOf({ resources: [resource("stytch.self", ["read"])], roles: [] })).toEqual(['resource "stytch.self": ids starting with "stytch" are reserved']);
    expect(problemsOf({ resources: [resource("documents", ["*"])], roles: [] })).toEqual(['resource "documents": "*" is not an action (it is the wildcard in role permissions)']);
    expect(problemsOf({ resources: [resource("documents", ["read"])], roles: [role("r", [{ resource_id: "documents", actions: ["read"] }, { resource_id: "documents", actions: ["read"] }])] })).toEqual([
      'role "r": resource "documents" has two permissions (list its actions in one)',
    ]);
    expect(problemsOf({ resources: [], roles: [], members: [] })).toEqual(["unknown field members"]);
    expect(problemsOf({ resources: [], roles: [], scopes: [{ scope: "read:docs" }] })).toEqual(["scopes: scopes (Stytch Connected Apps) are not supported: leave the list empty"]);
    expect(problemsOf({ resources: [resource("", [])], roles: [] })).toEqual(["resources.0.resource_id: resource_id must not be empty"]);
    expect(problemsOf({ resources: [resource("my docs", [])], roles: [] })).toEqual(["resources.0.resource_id: resource_id must be printable ASCII without spaces"]);
    expect(problemsOf({ resources: [resource("documents", ["read"])], roles: [role("r", [{ resource_id: "documents", actions: [] }])] })).toEqual(["roles.0.permissions.0.actions: a permission needs at least one action"]);
    expect(problemsOf("not an object")).toHaveLength(1);
    expect(problemsOf({ resources: [] })).toEqual(["roles: roles must be a list"]);
  });
});

describe("RBAC evaluation (shared by the server and tessera/verify)", () => {
  const policy = validatePolicy(POLICY);

  it("grants through an assigned role, the implicit stytch_user, or the wildcard, and names the granting roles", () => {
    expect(grantingRoles(policy, ["editor"], check("documents", "write"))).toEqual(["editor"]);
    expect(grantingRoles(policy, ["editor"], check("documents", "read"))).toEqual(["stytch_user", "editor"]);
    expect(grantingRoles(policy, [], check("documents", "read"))).toEqual(["stytch_user"]);
    expect(grantingRoles(policy, ["billing", "editor"], check("invoices", "read"))).toEqual(["billing"]);
    expect(effectiveRoles(["editor", "stytch_user", "editor"])).toEqual(["stytch_user", "editor"]);
  });

  it("fails closed: no role, an unknown role, resource or action, the wildcard as an action, no policy or a malformed one grant nothing", () => {
    expect(grantingRoles(policy, [], check("documents", "write"))).toEqual([]);
    expect(grantingRoles(policy, ["superadmin"], check("documents", "write"))).toEqual([]);
    expect(grantingRoles(policy, ["editor"], check("document", "write"))).toEqual([]);
    expect(grantingRoles(policy, ["editor"], check("documents", "wirte"))).toEqual([]); // "*" is every action the resource has, not any string
    expect(grantingRoles(policy, ["editor"], check("documents", "*"))).toEqual([]);
    expect(grantingRoles(policy, ["editor"], check("invoices", "refund"))).toEqual([]);
    expect(grantingRoles(EMPTY_POLICY, ["editor"], check("documents", "read"))).toEqual([]);
    expect(grantingRoles(null, ["editor"], check("documents", "read"))).toEqual([]);
    expect(grantingRoles({ roles: "x", resources: [] } as never, ["editor"], check("documents", "read"))).toEqual([]);
    expect(grantingRoles(policy, ["editor"], { resource_id: "documents" } as never)).toEqual([]);
    expect(grantingRoles(policy, ["editor"], check("", ""))).toEqual([]);
  });
});
