import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { DomainDeps } from "../../domain/ports.js";
import { createUser, deleteUser, getUser, SEARCH_LIMIT, searchUsers, updateUser } from "../../domain/users.js";
import { requestContext, type AppEnv } from "../context.js";
import { Attributes, Envelope, Id, Name, UserWire, userWire } from "../wire.js";
import { EMAIL, EMAIL_ID, envelope, errorExample, name, USER_ID, user } from "../examples.js";
import { decodeCursor, encodeCursor, SEARCH_FILTER_NAMES, toUserFilters } from "../user-search.js";
import { jsonRequest, ok, secured } from "./route-kit.js";

const UserIdParam = z.object({ user_id: Id });
const Metadata = z.record(z.string(), z.unknown());
const Roles = z.array(z.string().min(1).max(128)).max(100);
const userNotFound = { user_not_found: errorExample("user_not_found") };
const updatedUser = { ...user, roles: ["editor", "billing"], trusted_metadata: { plan: "enterprise" } };

const createUserRoute = createRoute({
  method: "post",
  path: "/v1/users",
  tags: ["users"],
  summary: "Create a user",
  ...secured,
  request: jsonRequest(
    z.object({
      email: z.string().optional(),
      name: Name.optional(),
      attributes: Attributes.optional(),
      create_user_as_pending: z.boolean().optional(),
      trusted_metadata: Metadata.optional(),
      untrusted_metadata: Metadata.optional(),
      external_id: z.string().max(128).optional(),
      roles: Roles.optional(),
    }),
    { email: EMAIL, name, trusted_metadata: { plan: "pro" }, untrusted_metadata: { theme: "dark" }, external_id: "crm-4711", roles: ["editor"] },
  ),
  responses: ok(z.object({ ...Envelope, user_id: z.string(), email_id: z.string(), status: z.string(), phone_id: z.string(), user: UserWire }), {
    ...envelope,
    user_id: USER_ID,
    email_id: EMAIL_ID,
    status: "active",
    phone_id: "",
    user: { ...user, password: null },
  }),
});

const getUserRoute = createRoute({
  method: "get",
  path: "/v1/users/{user_id}",
  tags: ["users"],
  summary: "Get a user",
  ...secured,
  request: { params: UserIdParam },
  responses: ok(UserWire.extend(Envelope), { ...envelope, ...user }, userNotFound),
});

const updateUserRoute = createRoute({
  method: "put",
  path: "/v1/users/{user_id}",
  tags: ["users"],
  summary: "Update a user (metadata keys set to null are deleted)",
  ...secured,
  request: {
    params: UserIdParam,
    ...jsonRequest(
      z.object({
        name: Name.optional(),
        attributes: Attributes.optional(),
        trusted_metadata: Metadata.optional(),
        untrusted_metadata: Metadata.optional(),
        external_id: z.string().max(128).optional(),
        roles: Roles.optional(),
      }),
      { trusted_metadata: { plan: "enterprise", trial_ends_at: null }, roles: ["editor", "billing"] },
    ),
  },
  responses: ok(
    z.object({ ...Envelope, user_id: z.string(), emails: UserWire.shape.emails, phone_numbers: z.array(z.unknown()), crypto_wallets: z.array(z.unknown()), user: UserWire }),
    { ...envelope, user_id: USER_ID, emails: user.emails, phone_numbers: [], crypto_wallets: [], user: updatedUser },
    userNotFound,
  ),
});

const deleteUserRoute = createRoute({
  method: "delete",
  path: "/v1/users/{user_id}",
  tags: ["users"],
  summary: "Delete a user and revoke all of its sessions",
  ...secured,
  request: { params: UserIdParam },
  responses: ok(z.object({ ...Envelope, user_id: z.string() }), { ...envelope, user_id: USER_ID }, userNotFound),
});

const Operand = z.object({ filter_name: z.string(), filter_value: z.unknown() });
const searchUsersRoute = createRoute({
  method: "post",
  path: "/v1/users/search",
  tags: ["users"],
  summary: "Search users",
  description: `Stytch's filters, AND or OR: ${SEARCH_FILTER_NAMES.join(", ")}. Filters over phones, WebAuthn, TOTP, crypto wallets and OAuth providers match no user (Tessera users have none).`,
  ...secured,
  request: jsonRequest(
    z.object({
      cursor: z.string().max(512).optional(),
      limit: z.number().int().min(1).max(SEARCH_LIMIT.max).optional(),
      query: z.object({ operator: z.enum(["AND", "OR"]), operands: z.array(Operand).max(20) }).optional(),
    }),
    { limit: 100, query: { operator: "AND", operands: [{ filter_name: "email_address_fuzzy", filter_value: "ada" }, { filter_name: "status", filter_value: "active" }] } },
  ),
  responses: ok(z.object({ ...Envelope, results: z.array(UserWire), results_metadata: z.object({ total: z.number().int(), next_cursor: z.string().nullable() }) }), {
    ...envelope,
    results: [user],
    results_metadata: { total: 1, next_cursor: null },
  }),
});

export function registerUserRoutes(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  app.openapi(createUserRoute, async (c) => {
    const body = c.req.valid("json");
    const user = await createUser(
      deps,
      c.get("project"),
      { email: body.email, name: body.name, pending: body.create_user_as_pending, trustedMetadata: body.trusted_metadata, untrustedMetadata: body.untrusted_metadata, externalId: body.external_id, roles: body.roles },
      requestContext(c),
    );
    return c.json({ request_id: c.get("requestId"), status_code: 200, user_id: user.userId, email_id: user.emailId ?? "", status: user.status, phone_id: "", user: userWire(user) }, 200);
  });

  app.openapi(getUserRoute, async (c) => {
    const user = await getUser(deps, c.get("project"), c.req.valid("param").user_id);
    return c.json({ request_id: c.get("requestId"), status_code: 200, ...userWire(user) }, 200);
  });

  app.openapi(updateUserRoute, async (c) => {
    const body = c.req.valid("json");
    const user = await updateUser(deps, c.get("project"), c.req.valid("param").user_id, {
      name: body.name,
      trustedMetadata: body.trusted_metadata,
      untrustedMetadata: body.untrusted_metadata,
      externalId: body.external_id,
      roles: body.roles,
    });
    const wire = userWire(user);
    return c.json({ request_id: c.get("requestId"), status_code: 200, user_id: user.userId, emails: wire.emails, phone_numbers: [], crypto_wallets: [], user: wire }, 200);
  });

  app.openapi(deleteUserRoute, async (c) => {
    const userId = c.req.valid("param").user_id;
    await deleteUser(deps, c.get("project"), userId);
    return c.json({ request_id: c.get("requestId"), status_code: 200, user_id: userId }, 200);
  });

  app.openapi(searchUsersRoute, async (c) => {
    const body = c.req.valid("json");
    const limit = body.limit ?? SEARCH_LIMIT.default;
    const query = { operator: body.query?.operator ?? "AND", filters: toUserFilters(body.query?.operands ?? []), limit, ...(body.cursor ? { after: decodeCursor(body.cursor) } : {}) };
    const { users, total } = await searchUsers(deps, c.get("project"), query);
    const last = users.at(-1);
    const nextCursor = users.length === limit && last ? encodeCursor(last.createdAt, last.userId) : null;
    return c.json({ request_id: c.get("requestId"), status_code: 200, results: users.map(userWire), results_metadata: { total, next_cursor: nextCursor } }, 200);
  });
}
