import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { DomainDeps } from "../../domain/ports.js";
import { deleteEmail, deleteExternalId, deletePassword, exchangePrimaryFactor } from "../../domain/user-factors.js";
import type { User } from "../../domain/types.js";
import type { AppEnv } from "../context.js";
import { envelope, errorExample, USER_ID, user } from "../examples.js";
import { Envelope, Id, UserWire, userWire } from "../wire.js";
import { jsonRequest, ok, secured } from "./route-kit.js";

/** Stytch's factor routes on users: each answers `{ user_id, user }`. */
const Changed = z.object({ ...Envelope, user_id: z.string(), user: UserWire });
const changed = (u: z.output<typeof UserWire>) => ({ ...envelope, user_id: USER_ID, user: u });
const userNotFound = { user_not_found: errorExample("user_not_found") };

const routes = {
  exchange: createRoute({
    method: "put",
    path: "/v1/users/{user_id}/exchange_primary_factor",
    tags: ["users"],
    summary: "Replace the user's email with another (a new, unverified email id); phone numbers are refused",
    ...secured,
    request: { params: z.object({ user_id: Id }), ...jsonRequest(z.object({ email_address: z.string().optional(), phone_number: z.string().optional() }), { email_address: "ada.lovelace@example.org" }) },
    responses: ok(Changed, changed({ ...user, emails: [{ email_id: "email-test-0b7e4c55-3a41-4b8c-9f0e-2d6a1c7b5e93", email: "ada.lovelace@example.org", verified: false }] }), userNotFound),
  }),
  deleteEmail: createRoute({
    method: "delete",
    path: "/v1/users/emails/{email_id}",
    tags: ["users"],
    summary: "Remove an email from its user (the password stays, unusable for logins until the user has an email again)",
    ...secured,
    request: { params: z.object({ email_id: Id }) },
    responses: ok(Changed, changed({ ...user, emails: [] }), { email_not_found: errorExample("email_not_found") }),
  }),
  deletePassword: createRoute({
    method: "delete",
    path: "/v1/users/passwords/{password_id}",
    tags: ["users"],
    summary: "Remove a password from its user (sessions stay alive)",
    ...secured,
    request: { params: z.object({ password_id: Id }) },
    responses: ok(Changed, changed({ ...user, password: null }), { password_not_found: errorExample("password_not_found") }),
  }),
  deleteExternalId: createRoute({
    method: "delete",
    path: "/v1/users/{user_id}/external_id",
    tags: ["users"],
    summary: "Clear the user's external_id",
    ...secured,
    request: { params: z.object({ user_id: Id }) },
    responses: ok(Changed, changed({ ...user, external_id: "" }), userNotFound),
  }),
};

const body = (requestId: string, u: User) => ({ request_id: requestId, status_code: 200, user_id: u.userId, user: userWire(u) });

export function registerUserFactorRoutes(app: OpenAPIHono<AppEnv>, deps: DomainDeps) {
  app.openapi(routes.exchange, async (c) => {
    const b = c.req.valid("json");
    const u = await exchangePrimaryFactor(deps, c.get("project"), c.req.valid("param").user_id, { emailAddress: b.email_address, phoneNumber: b.phone_number });
    return c.json(body(c.get("requestId"), u), 200);
  });
  app.openapi(routes.deleteEmail, async (c) => c.json(body(c.get("requestId"), await deleteEmail(deps, c.get("project"), c.req.valid("param").email_id)), 200));
  app.openapi(routes.deletePassword, async (c) => c.json(body(c.get("requestId"), await deletePassword(deps, c.get("project"), c.req.valid("param").password_id)), 200));
  app.openapi(routes.deleteExternalId, async (c) => c.json(body(c.get("requestId"), await deleteExternalId(deps, c.get("project"), c.req.valid("param").user_id)), 200));
}
