import { getRequestListener } from "@hono/node-server";
import type { Config } from "./config.js";
import { createDeps, type Deps } from "./deps.js";
import { createProject, type CreatedProject } from "./domain/projects.js";
import { createAdminApp } from "./http/admin-app.js";
import { createApp } from "./http/app.js";
import { withExchangeFastPath } from "./http/exchange-fast-path.js";
import { listen, type HttpServer } from "./http/node-server.js";
import { startKeyRotationJob } from "./jobs/key-rotation-job.js";
import { createLogger } from "./logger.js";
import type { Metrics } from "./metrics/metrics.js";
import { announceServer, withdrawServer } from "./management/discovery.js";
import { createLocalManagement } from "./management/local.js";
import { yieldHelperThreadsToEventLoop } from "./thread-priority.js";

/**
 * Runs the server until SIGTERM/SIGINT, then drains: stop accepting, answer every later request with
 * `Connection: close`, end the revocation streams, let in-flight requests finish, and only then stop
 * the background job and close the pools. It exits as soon as the last connection is gone;
 * SHUTDOWN_TIMEOUT_MS is only the backstop for a request that never finishes.
 */
export async function serve(config: Config, worker?: ClusterWorker): Promise<void> {
  // Before the first request: a server that answers already runs its pool below the event loop.
  await yieldHelperThreadsToEventLoop(config.helperThreadNice);
  // A worker's lines say which process wrote them (a cluster's workers share one stdout).
  const deps = await createDeps(config, worker ? { migrate: false, logger: createLogger({ level: config.logLevel }).child({ worker: worker.id, pid: process.pid }) } : {});
  let startedUp = false;
  const appDeps = { ...deps, ...(worker ? { metrics: worker.clusterWideMetrics(deps.metrics) } : {}), startupComplete: () => startedUp };
  const app = createApp(appDeps);
  const admin = deps.adminKey
    ? createAdminApp({ management: createLocalManagement(deps, "admin-api"), adminKey: deps.adminKey, logger: deps.logger, bodyLimitBytes: config.bodyLimitBytes, databaseAnswers: () => deps.store.ping().then(() => true, () => false) })
    : null;
  // The management API is on its own listener (127.0.0.1 by default); on the public one only when configured.
  const publicFetch: typeof app.fetch = admin && config.adminOnPublicListener ? (request, ...rest) => (new URL(request.url).pathname.startsWith("/admin/") ? admin.fetch(request, ...rest) : app.fetch(request, ...rest)) : app.fetch;
  const keyRotation = startKeyRotationJob({ ...deps, store: deps.jobStore });
  const timeouts = { requestTimeoutMs: config.requestTimeoutMs, headersTimeoutMs: config.headersTimeoutMs };
  let server: HttpServer | undefined;
  let adminServer: HttpServer | undefined;
  let firstProject: CreatedProject | null;
  try {
    server = await listen(withExchangeFastPath(appDeps, getRequestListener(publicFetch)), { port: config.port, host: config.host, ...timeouts });
    if (admin && config.adminPort !== null) adminServer = await listen(getRequestListener(admin.fetch), { port: config.adminPort, host: config.adminHost, ...timeouts });
    // Only once listening: a project whose one-time secret could not be shown would be lost.
    firstProject = config.nodeEnv === "production" || (worker && !worker.createsDevelopmentProject) ? null : await createDevelopmentProjectOnFirstStart(deps);
  } catch (error) {
    await Promise.all([server?.close(0), adminServer?.close(0)]);
    await keyRotation.stop();
    await deps.close();
    throw error;
  }
  const listening = server;
  const loopback = (host: string) => (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
  const adminUrl = adminServer ? `http://${loopback(config.adminHost)}:${adminServer.port}` : admin && config.adminOnPublicListener ? `http://${loopback(config.host)}:${listening.port}` : null;
  // The CLI finds this server (and uses its management API) through DATA_DIR; a cluster's primary announces it.
  if (adminUrl && !worker) announceServer(config.dataDir, { pid: process.pid, adminUrl });
  deps.logger.info(
    {
      port: listening.port,
      admin_url: adminUrl ?? "off (set TESSERA_ADMIN_KEY)",
      database: deps.database.kind,
      redis: deps.redis.configured ? "redis" : "in-process",
      public_url: config.publicUrl,
      jwt_issuer: "stytch.com/<project_id>, or PUBLIC_URL for projects with issuerFormat=public_url",
    },
    "tessera listening",
  );
  if (firstProject) process.stdout.write(firstStartBanner(firstProject, config.publicUrl));
  startedUp = true;
  worker?.ready({ port: listening.port, adminUrl });

  const stop = async (signal: string) => {
    if (deps.drain.draining) return;
    const started = performance.now();
    deps.logger.info({ signal, in_flight: listening.inFlight }, "draining");
    deps.drain.begin();
    if (adminUrl && !worker) withdrawServer(config.dataDir, process.pid);
    const [{ cutRequests }] = await Promise.all([listening.close(config.shutdownTimeoutMs), adminServer?.close(config.shutdownTimeoutMs)]);
    if (cutRequests > 0) deps.logger.warn({ cut_requests: cutRequests, shutdown_timeout_ms: config.shutdownTimeoutMs }, "drain backstop: cut requests still running");
    // The pools close only now: no handler is left that could still need them.
    await keyRotation.stop();
    await deps.close();
    deps.logger.info({ drain_ms: Math.round(performance.now() - started), cut_requests: cutRequests }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/** How one of a cluster's workers (src/cluster.ts) differs from a lone server. */
export interface ClusterWorker {
  readonly id: number;
  /** One worker only: several starting at once on an empty database would each create a project. */
  readonly createsDevelopmentProject: boolean;
  /** Tells the primary that this worker serves; the primary announces the server in DATA_DIR. */
  ready(listening: { port: number; adminUrl: string | null }): void;
  /** The worker's metrics, whose scrape is every worker's added up: a scrape reaches any one of them. */
  clusterWideMetrics(own: Metrics): Metrics;
}

async function createDevelopmentProjectOnFirstStart(deps: Deps): Promise<CreatedProject | null> {
  if ((await deps.store.projects.count()) > 0) return null;
  return createProject(deps, { name: "Development" });
}

function firstStartBanner(created: CreatedProject, publicUrl: string): string {
  const { project, secret, publicToken } = created;
  const auth = `${project.projectId}:${secret}`;
  return `
Tessera created a development project on this first start. The secret is shown only now.

  project_id    ${project.projectId}
  secret        ${secret}
  public_token  ${publicToken}

Sign up a user and get a session (copy, paste):

  curl -s -u '${auth}' -H 'Content-Type: application/json' \\
    -d '{"email":"ada@example.com","password":"correct-horse-battery-staple","session_duration_minutes":60}' \\
    ${publicUrl}/v1/passwords

Log in:

  curl -s -u '${auth}' -H 'Content-Type: application/json' \\
    -d '{"email":"ada@example.com","password":"correct-horse-battery-staple","session_duration_minutes":60}' \\
    ${publicUrl}/v1/passwords/authenticate

Lost the secret? \`npx tessera secrets create --project ${project.projectId}\`

`;
}
