import { createLocalManagement } from "../../src/management/local.js";
import type { TestServer } from "../helpers.js";

/** One policy for the RBAC tests: everyone reads, editors do anything to documents, billing reads invoices. */
export const POLICY = {
  resources: [
    { resource_id: "documents", description: "Shared documents", actions: ["read", "write", "delete"] },
    { resource_id: "invoices", description: "Invoices", actions: ["read", "refund"] },
  ],
  roles: [
    { role_id: "stytch_user", description: "Every user", permissions: [{ resource_id: "documents", actions: ["read"] }] },
    { role_id: "editor", description: "Edits documents", permissions: [{ resource_id: "documents", actions: ["*"] }] },
    { role_id: "billing", description: "Reads invoices", permissions: [{ resource_id: "invoices", actions: ["read"] }] },
  ],
};

/** Sets a project's policy the way an operator does, through the management interface. */
export async function setPolicy(server: Pick<TestServer, "deps" | "project">, policy: unknown = POLICY) {
  return createLocalManagement(server.deps, "test").setRbacPolicy(server.project.project.projectId, policy);
}

export const check = (resource_id: string, action: string) => ({ resource_id, action });
