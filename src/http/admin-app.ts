import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import { TesseraError } from "../errors.js";
import type { Logger } from "../domain/ports.js";
import type { Management } from "../management/management.js";
import { adminKeyAuth } from "./admin-auth.js";
import type { AppEnv } from "./context.js";
import { createErrorHandler } from "./errors.js";
import { jsonBody } from "./json-body.js";
import { registerAdminRoutes } from "./routes/admin.js";
import { SECURITY_HEADERS, staticHeaders } from "./static-headers.js";

const IMPORT_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export interface AdminAppDeps {
  management: Management;
  adminKey: string;
  logger: Logger;
  bodyLimitBytes: number;
  databaseAnswers(): Promise<boolean>;
}

/**
 * The management API, served on its own listener (127.0.0.1 by default), never on the public one
 * unless configured: an admin key that leaks is worth less when its port is unreachable.
 */
export function createAdminApp(deps: AdminAppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      throw new TesseraError("bad_request", { message: `${issue?.path.join(".") || "request"}: ${issue?.message ?? "invalid"}` });
    },
  });
  app.use(async (c, next) => {
    c.set("requestId", `request-id-${randomUUID()}`);
    c.header("X-Request-Id", c.get("requestId")); // as on the public listener: an answer finds its log line
    await next();
    deps.logger.info({ request_id: c.get("requestId"), method: c.req.method, path: c.req.path, status: c.res.status }, "admin request");
  });
  app.use(staticHeaders(SECURITY_HEADERS));
  app.use("/admin/*", adminKeyAuth(deps.adminKey));
  // An import batch (up to 1000 users with metadata) outgrows the API's body limit; only admins reach it.
  const body = jsonBody({ maxBytes: deps.bodyLimitBytes });
  const importBody = jsonBody({ maxBytes: IMPORT_BODY_LIMIT_BYTES });
  app.use("/admin/*", (c, next) => (c.req.path.endsWith("/users/import") ? importBody : body)(c, next));
  registerAdminRoutes(app, deps.management);
  app.openAPIRegistry.registerComponent("securitySchemes", "adminKey", { type: "http", scheme: "bearer", description: "the admin key (TESSERA_ADMIN_KEY, or DATA_DIR/admin.key)" });
  app.doc31("/admin/openapi.json", { openapi: "3.1.0", info: { title: "Tessera management API", version: "0.1.0" } });
  app.notFound((c) => {
    throw new TesseraError("not_found", { message: `No route for ${c.req.method} ${c.req.path}.` });
  });
  app.onError(createErrorHandler(deps.logger, deps.databaseAnswers));
  return app;
}
