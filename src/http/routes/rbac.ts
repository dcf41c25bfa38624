import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { envelope, rbacPolicy } from "../examples.js";
import { Envelope, RbacPolicyWire } from "../wire.js";
import { ok, secured } from "./route-kit.js";

const policyRoute = createRoute({
  method: "get",
  path: "/v1/rbac/policy",
  tags: ["rbac"],
  summary: "The project's RBAC policy (Stytch: rbac.policy), what the official clients cache for local authorization checks",
  description: "Roles with their permissions, resources with their actions, and the implicit stytch_user role every user has. A project that never set a policy answers one with stytch_user and no permissions: every check is refused. Set it with `tessera rbac set`.",
  ...secured,
  responses: ok(z.object({ ...Envelope, policy: RbacPolicyWire }), { ...envelope, policy: rbacPolicy }),
});

/** The policy is read with the project on every request, so a change is served at once. */
export function registerRbacRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(policyRoute, (c) => c.json({ request_id: c.get("requestId"), status_code: 200, policy: c.get("project").rbacPolicy }, 200));
}
