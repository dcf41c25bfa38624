import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { TesseraError } from "../errors.js";
import type { DomainDeps, Logger } from "../domain/ports.js";
import type { Metrics } from "../metrics/metrics.js";
import type { RedisStatus } from "../redis/connection.js";
import { projectSecretAuth } from "./auth.js";
import { browserGuard } from "./browser-guard.js";
import type { AppEnv } from "./context.js";
import type { DrainSignal } from "./drain.js";
import { createErrorHandler } from "./errors.js";
import { validationError } from "./validation.js";
import { jsonBody } from "./json-body.js";
import { isUnder } from "./no-store.js";
import { requestFrame } from "./request-frame.js";
import { registerAttestRoute } from "./routes/attest.js";
import { registerDocsRoutes } from "./routes/docs.js";
import { JWKS_PATH, registerJwksRoute } from "./routes/jwks.js";
import { registerMetricsRoute } from "./routes/metrics.js";
import { databaseAnswers, registerOpsRoutes } from "./routes/ops.js";
import { registerPasswordRoutes } from "./routes/passwords.js";
import { registerRbacRoutes } from "./routes/rbac.js";
import { registerRevocationStream } from "./routes/revocation-stream.js";
import { registerSdkRoutes } from "./routes/sdk.js";
import { registerSessionRoutes } from "./routes/sessions.js";
import { registerUserFactorRoutes } from "./routes/user-factors.js";
import { registerUserRoutes } from "./routes/users.js";

export interface AppDeps extends DomainDeps {
  logger: Logger;
  redis: RedisStatus;
  bodyLimitBytes: number;
  trustProxyHeader: string | undefined;
  /** Shutdown state: while draining, responses close their connections and streams end. */
  drain: DrainSignal;
  metrics: Metrics;
  metricsToken: string | undefined;
  /** False while `serve` is still starting (/readyz answers 503); absent in process (tests): started. */
  startupComplete?: () => boolean;
}

/** hono/combine's `except` would build a router match and a middleware composition per request. */
const exceptJwks =
  (middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> =>
  (c, next) =>
    isUnder(c.req.path, JWKS_PATH) ? next() : middleware(c, next);

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });

  app.use(requestFrame(deps));
  // Credentials before the body: a stranger is refused without a byte of their body being read.
  app.use("/v1/*", exceptJwks(projectSecretAuth(deps)));
  app.use("/v1/*", jsonBody({ maxBytes: deps.bodyLimitBytes }));
  app.use("/sdk/v1/:public_token/*", browserGuard(deps));
  app.use("/sdk/v1/*", jsonBody({ maxBytes: deps.bodyLimitBytes }));

  registerOpsRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerJwksRoute(app, deps);
  registerUserRoutes(app, deps);
  registerUserFactorRoutes(app, deps);
  registerPasswordRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerAttestRoute(app, deps);
  registerRbacRoutes(app);
  registerRevocationStream(app, deps);
  registerSdkRoutes(app, deps);

  app.openAPIRegistry.registerComponent("securitySchemes", "projectSecret", { type: "http", scheme: "basic", description: "project_id as user name, a project secret as password" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Tessera", version: "0.1.0", description: "Session server with the Stytch wire format. Errors: {status_code, request_id, error_type, error_message, error_url}." },
  });
  registerDocsRoutes(app);

  app.notFound((c) => {
    throw new TesseraError("not_found", { message: `No route for ${c.req.method} ${c.req.path}.` });
  });
  app.onError(createErrorHandler(deps.logger, databaseAnswers(deps.store)));
  return app;
}

export type App = ReturnType<typeof createApp>;
