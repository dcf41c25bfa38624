import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { IMPORT_BATCH_LIMIT } from "../../domain/password-migration.js";
import { EVENTS_LIMIT, type Management } from "../../management/management.js";
import type { AppEnv } from "../context.js";
import { PROJECT_ID, PUBLIC_TOKEN, rbacPolicy } from "../examples.js";
import { Id } from "../wire.js";
import { jsonRequest, ok } from "./route-kit.js";

/** The management API (admin key): thin routes over the local Management, one per operation. */
const secured = { security: [{ adminKey: [] }], tags: ["management"] };
const ProjectParam = z.object({ project_id: Id });
const Settings = z.record(z.string(), z.unknown()).openapi({ description: "A partial settings patch; nested objects (rateLimits) merge key by key.", example: { allowedOrigins: ["https://app.example.com"], rateLimits: { loginFailuresPerEmail: 5 } } });
const Any = z.record(z.string(), z.unknown());
const SECRET_ID = "secret-test-3f6e2c9a-8d1b-4e7f-a5c2-9b0d1e4f6a83";
const KID = "XmYXNZwNYGGHeWTLmdTPr2Cqb1YfldhXLtA-d_S7hBY";
const summary = { project_id: PROJECT_ID, name: "Shop", created_at: "2026-01-15T12:00:00.000Z" };
const project = { ...summary, live: false, settings: { allowedOrigins: ["https://app.example.com"], jwtAlgorithm: "RS256", rateLimits: { loginFailuresPerEmail: 5 } } };
const profile = {
  profile_id: "trusted-token-profile-test-4b1f0c1e-7d2a-4a86-9a0e-5c3f2b1d8e77",
  project_id: PROJECT_ID,
  name: "Partner SSO",
  issuer: "https://id.partner.example",
  audience: "tessera",
  jwks_url: "https://id.partner.example/.well-known/jwks.json",
  attribute_mapping: { email: "email", token_id: "jti" },
  can_jit_provision: true,
  created_at: "2026-01-15T12:00:00.000Z",
};
const key = { kid: KID, alg: "RS256", state: "current", created_at: "2026-01-15T12:00:00.000Z", activate_at: "2026-01-15T12:00:00.000Z", activated_at: "2026-01-15T12:00:00.000Z", deactivated_at: null, retired_at: null };

const routes = {
  list: createRoute({ method: "get", path: "/admin/v1/projects", summary: "List projects", ...secured, responses: ok(z.object({ projects: z.array(Any) }), { projects: [summary] }) }),
  create: createRoute({
    method: "post",
    path: "/admin/v1/projects",
    summary: "Create a project (one secret, one public token, one signing key); the secret is shown only here",
    ...secured,
    request: jsonRequest(z.object({ name: z.string().min(1).max(200), live: z.boolean().optional(), settings: Settings.optional() }), { name: "Shop", settings: { allowedOrigins: ["https://app.example.com"] } }),
    responses: ok(Any, { project_id: PROJECT_ID, secret_id: SECRET_ID, secret: "secret-test-…", public_token: PUBLIC_TOKEN }),
  }),
  show: createRoute({ method: "get", path: "/admin/v1/projects/{project_id}", summary: "A project and every setting", ...secured, request: { params: ProjectParam }, responses: ok(Any, project) }),
  update: createRoute({
    method: "patch",
    path: "/admin/v1/projects/{project_id}",
    summary: "Rename a project or change settings; validated whole, audited, in effect on every instance at once",
    ...secured,
    request: { params: ProjectParam, ...jsonRequest(z.object({ name: z.string().min(1).max(200).optional(), settings: Settings.optional() }), { settings: { rateLimits: { loginFailuresPerEmail: 10 } } }) },
    responses: ok(Any, { ...project, changed: ["rateLimits.loginFailuresPerEmail"] }),
  }),
  createSecret: createRoute({ method: "post", path: "/admin/v1/projects/{project_id}/secrets", summary: "A further live secret (rotation without downtime)", ...secured, request: { params: ProjectParam }, responses: ok(Any, { project_id: PROJECT_ID, secret_id: SECRET_ID, secret: "secret-test-…" }) }),
  revokeSecret: createRoute({
    method: "post",
    path: "/admin/v1/projects/{project_id}/secrets/{secret_id}/revoke",
    summary: "Revoke a secret",
    ...secured,
    request: { params: ProjectParam.extend({ secret_id: Id }) },
    responses: ok(Any, { project_id: PROJECT_ID, secret_id: SECRET_ID, revoked: true }),
  }),
  createPublicToken: createRoute({ method: "post", path: "/admin/v1/projects/{project_id}/public_tokens", summary: "A public token for the browser API", ...secured, request: { params: ProjectParam }, responses: ok(Any, { project_id: PROJECT_ID, public_token: PUBLIC_TOKEN }) }),
  listKeys: createRoute({ method: "get", path: "/admin/v1/projects/{project_id}/keys", summary: "Signing keys with states and timestamps", ...secured, request: { params: ProjectParam }, responses: ok(z.object({ keys: z.array(Any) }), { keys: [key] }) }),
  rotateKeys: createRoute({
    method: "post",
    path: "/admin/v1/projects/{project_id}/keys/rotate",
    summary: "Schedule a new key, or with now=true sign with a new key at once and retire every older one (leak response)",
    ...secured,
    request: { params: ProjectParam, ...jsonRequest(z.object({ now: z.boolean().optional() }), { now: true }) },
    responses: ok(Any, { project_id: PROJECT_ID, moves: [{ kid: KID, to: "retired" }, { kid: "a7Qm…", to: "current" }] }),
  }),
  showRbac: createRoute({ method: "get", path: "/admin/v1/projects/{project_id}/rbac", summary: "The project's RBAC policy (Stytch's consumer format)", ...secured, request: { params: ProjectParam }, responses: ok(Any, { project_id: PROJECT_ID, policy: rbacPolicy }) }),
  setRbac: createRoute({
    method: "put",
    path: "/admin/v1/projects/{project_id}/rbac",
    summary: "Replace the project's RBAC policy; validated whole (400 invalid_rbac_policy names each problem, nothing changes), audited as project.updated, served at once",
    ...secured,
    request: { params: ProjectParam, ...jsonRequest(Any, { roles: rbacPolicy.roles.slice(1), resources: rbacPolicy.resources }) },
    responses: ok(Any, { project_id: PROJECT_ID, policy: rbacPolicy }),
  }),
  reencrypt: createRoute({ method: "post", path: "/admin/v1/keys/reencrypt", summary: "Seal every private key and every stored session token under the first master key", ...secured, responses: ok(Any, { reencrypted: 3, session_tokens: 1200, session_tokens_unreadable: 0 }) }),
  importUsers: createRoute({
    method: "post",
    path: "/admin/v1/projects/{project_id}/users/import",
    summary: "Import users with password hashes (passwords.migrate's fields per user), one transaction; existing users with a password are left alone",
    ...secured,
    request: {
      params: ProjectParam,
      ...jsonRequest(z.object({ users: z.array(z.object({ line: z.number().int().min(1), user: z.unknown() })).max(IMPORT_BATCH_LIMIT) }), {
        users: [{ line: 1, user: { email: "ada@example.com", hash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", hash_type: "bcrypt" } }],
      }),
    },
    responses: ok(z.object({ results: z.array(Any) }), { results: [{ line: 1, status: "created", user_id: "user-test-63d0aaff-29c1-4e66-b790-2775aecfa674" }] }),
  }),
  events: createRoute({
    method: "get",
    path: "/admin/v1/projects/{project_id}/events",
    summary: "The audit log, newest first",
    ...secured,
    request: { params: ProjectParam, query: z.object({ user_id: Id.optional(), limit: z.coerce.number().int().min(1).max(EVENTS_LIMIT.max).optional() }) },
    responses: ok(z.object({ events: z.array(Any) }), { events: [{ event_id: 1042, at: "2026-01-15T12:05:00.000Z", type: "project.updated", user_id: null, session_id: null, actor: "admin-api", ip: null, user_agent: null, details: { changed: ["allowedOrigins"] } }] }),
  }),
  createProfile: createRoute({
    method: "post",
    path: "/admin/v1/projects/{project_id}/trusted_token_profiles",
    summary: "A trusted token profile: an issuer whose JWTs sessions.attest exchanges for sessions",
    ...secured,
    request: {
      params: ProjectParam,
      ...jsonRequest(
        z.object({ name: z.string(), issuer: z.string(), audience: z.string(), jwks_url: z.string(), attribute_mapping: Any.optional(), can_jit_provision: z.boolean().optional() }),
        { name: "Partner SSO", issuer: "https://id.partner.example", audience: "tessera", jwks_url: "https://id.partner.example/.well-known/jwks.json", attribute_mapping: { email: "email", token_id: "jti" }, can_jit_provision: true },
      ),
    },
    responses: ok(Any, profile),
  }),
  listProfiles: createRoute({ method: "get", path: "/admin/v1/projects/{project_id}/trusted_token_profiles", summary: "The project's trusted token profiles", ...secured, request: { params: ProjectParam }, responses: ok(z.object({ profiles: z.array(Any) }), { profiles: [profile] }) }),
  deleteProfile: createRoute({
    method: "delete",
    path: "/admin/v1/projects/{project_id}/trusted_token_profiles/{profile_id}",
    summary: "Delete a trusted token profile: its tokens are refused at once",
    ...secured,
    request: { params: ProjectParam.extend({ profile_id: Id }) },
    responses: ok(Any, { project_id: PROJECT_ID, profile_id: profile.profile_id, deleted: true }),
  }),
};

export function registerAdminRoutes(app: OpenAPIHono<AppEnv>, management: Management) {
  const param = (c: { req: { param(name: string): string } }) => c.req.param("project_id");
  app.openapi(routes.list, async (c) => c.json({ projects: await management.listProjects() }, 200));
  app.openapi(routes.create, async (c) => c.json(await management.createProject(c.req.valid("json")), 200));
  app.openapi(routes.show, async (c) => c.json(await management.showProject(param(c)), 200));
  app.openapi(routes.update, async (c) => c.json(await management.updateProject(param(c), c.req.valid("json")), 200));
  app.openapi(routes.createSecret, async (c) => c.json(await management.createSecret(param(c)), 200));
  app.openapi(routes.revokeSecret, async (c) => c.json(await management.revokeSecret(param(c), c.req.valid("param").secret_id), 200));
  app.openapi(routes.createPublicToken, async (c) => c.json(await management.createPublicToken(param(c)), 200));
  app.openapi(routes.listKeys, async (c) => c.json({ keys: await management.listKeys(param(c)) }, 200));
  app.openapi(routes.rotateKeys, async (c) => c.json(await management.rotateKeys(param(c), { now: c.req.valid("json").now ?? false }), 200));
  app.openapi(routes.showRbac, async (c) => c.json(await management.showRbacPolicy(param(c)), 200));
  app.openapi(routes.setRbac, async (c) => c.json(await management.setRbacPolicy(param(c), c.req.valid("json")), 200));
  app.openapi(routes.importUsers, async (c) => c.json(await management.importUsers(param(c), c.req.valid("json").users), 200));
  app.openapi(routes.reencrypt, async (c) => c.json(await management.reencryptKeys(), 200));
  app.openapi(routes.events, async (c) => {
    const query = c.req.valid("query");
    return c.json({ events: await management.listEvents(param(c), { userId: query.user_id, limit: query.limit ?? EVENTS_LIMIT.default }) }, 200);
  });
  app.openapi(routes.createProfile, async (c) => c.json(await management.createTrustedTokenProfile(param(c), c.req.valid("json")), 200));
  app.openapi(routes.listProfiles, async (c) => c.json({ profiles: await management.listTrustedTokenProfiles(param(c)) }, 200));
  app.openapi(routes.deleteProfile, async (c) => c.json(await management.deleteTrustedTokenProfile(param(c), c.req.valid("param").profile_id), 200));
}
