import type { AddressInfo } from "node:net";
import { serve as serveHttp } from "@hono/node-server";
import type { Config } from "./config.js";
import { createDeps, type Deps } from "./deps.js";
import { createProject, type CreatedProject } from "./domain/projects.js";
import { createApp } from "./http/app.js";
import { startKeyRotationJob } from "./jobs/key-rotation-job.js";

/** Runs the server until SIGTERM/SIGINT, then drains: stop accepting, finish in-flight requests, close pools. */
export async function serve(config: Config): Promise<void> {
  const deps = await createDeps(config);
  const app = createApp(deps);
  const keyRotation = startKeyRotationJob({ ...deps, store: deps.jobStore });
  const server = serveHttp({ fetch: app.fetch, port: config.port, hostname: config.host });
  let port: number;
  let firstProject: CreatedProject | null;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    port = (server.address() as AddressInfo).port;
    // Only once listening: a project whose one-time secret could not be shown would be lost.
    firstProject = config.nodeEnv === "production" ? null : await createDevelopmentProjectOnFirstStart(deps);
  } catch (error) {
    server.close();
    await keyRotation.stop();
    await deps.close();
    throw error;
  }
  deps.logger.info({ port, database: deps.database.kind, redis: deps.redis.configured ? "redis" : "in-process", public_url: config.publicUrl }, "tessera listening");
  if (firstProject) process.stdout.write(firstStartBanner(firstProject, config.publicUrl));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "draining");
    const force = setTimeout(() => (server as unknown as { closeAllConnections(): void }).closeAllConnections(), config.shutdownTimeoutMs);
    force.unref();
    server.close(async () => {
      clearTimeout(force);
      await keyRotation.stop();
      await deps.close();
      deps.logger.info({}, "stopped");
      process.exit(0);
    });
    (server as unknown as { closeIdleConnections(): void }).closeIdleConnections();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
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
