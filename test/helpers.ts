import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import postgres from "postgres";
import { pino } from "pino";
import { Writable } from "node:stream";
import { loadConfig, type Config } from "../src/config.js";
import { createLogger } from "../src/logger.js";
import { createDeps, type Deps, type DepsOverrides } from "../src/deps.js";
import type { Clock } from "../src/domain/ports.js";
import { createProject, resolveSettings, type CreatedProject } from "../src/domain/projects.js";
import { createApp, type App } from "../src/http/app.js";
import { withExchangeFastPath } from "../src/http/exchange-fast-path.js";

/** Real services when CI sets these; otherwise the embedded twins. */
export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

/** A clock tests move by hand: lifetimes are tested by advancing it, never by sleeping. */
export class TestClock implements Clock {
  private current: number;
  constructor(start = new Date("2026-01-15T12:00:00.000Z")) {
    this.current = start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
}

/** A fresh database for one test file on the real server, dropped afterwards. */
export async function createTestDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tessera_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(baseUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

export interface TestEnvironment {
  /** Everything a server process would read, for child processes (CLI tests). */
  env: Record<string, string>;
  config: Config;
  dataDir: string;
  cleanup(): Promise<void>;
}

/** Configuration for one isolated test server: its own data folder and (on Postgres) its own database. */
export async function createTestEnvironment(extra: Record<string, string> = {}): Promise<TestEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-test-"));
  const database = DATABASE_URL ? await createTestDatabase(DATABASE_URL) : null;
  const env: Record<string, string> = {
    NODE_ENV: "test",
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ADMIN_PORT: "0", // a free port: parallel test servers would collide on PORT + 1
    TESSERA_MASTER_KEY: randomBytes(32).toString("base64"),
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(REDIS_URL ? { REDIS_URL } : {}),
    ...extra,
  };
  return {
    env,
    config: loadConfig(env),
    dataDir,
    async cleanup() {
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestServer {
  deps: Deps;
  app: App;
  clock: TestClock;
  project: CreatedProject;
  /** HTTP Basic header value for the project's secret. */
  authorization: string;
  /** JSON request to the app, authenticated as the project unless `authorization` is overridden. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  settings?: Parameters<typeof resolveSettings>[0];
  env?: Record<string, string>;
  overrides?: DepsOverrides;
}

export async function createTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const environment = await createTestEnvironment(options.env);
  const clock = new TestClock();
  const deps = await createDeps(environment.config, { clock, logger: pino({ level: "silent" }), inMemoryDatabase: true, ...options.overrides });
  return serverOn(environment, deps, clock, options);
}

/** A test server that also listens on 127.0.0.1 (for clients that speak HTTP: SDKs, the stytch client). */
export async function createListeningTestServer(options: TestServerOptions = {}): Promise<TestServer & { baseUrl: string }> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const environment = await createTestEnvironment({ PUBLIC_URL: baseUrl, ...options.env });
  const clock = new TestClock();
  const deps = await createDeps(environment.config, { clock, logger: pino({ level: "silent" }), inMemoryDatabase: true, ...options.overrides });
  const server = await serverOn(environment, deps, clock, options);
  http.on("request", withExchangeFastPath(deps, getRequestListener(server.app.fetch)));
  return {
    ...server,
    baseUrl,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await server.close();
    },
  };
}

async function serverOn(environment: TestEnvironment, deps: Deps, clock: TestClock, options: TestServerOptions): Promise<TestServer> {
  const app = createApp(deps);
  const project = await createProject(deps, { name: "Test", settings: options.settings ?? {} });
  const authorization = basicAuth(project.project.projectId, project.secret);
  return {
    deps,
    app,
    clock,
    project,
    authorization,
    async call(method, path, body, headers = {}) {
      const response = await app.request(path, {
        method,
        headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // leave non-JSON bodies as text
      }
      return { status: response.status, body: parsed, headers: response.headers };
    },
    async close() {
      await deps.close();
      await environment.cleanup();
    },
  };
}

/** A real logger whose JSON lines land in `lines`, for tests of what the server logs. */
export function capturedLogger(level: Config["logLevel"] = "info"): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination: sink }), lines };
}

export function basicAuth(projectId: string, secret: string): string {
  return `Basic ${Buffer.from(`${projectId}:${secret}`).toString("base64")}`;
}

/** A password zxcvbn scores 4, for tests that are not about password strength. */
export const STRONG_PASSWORD = "violet-Tractor-sunrise-91!";

/** Signs a user up with a session through the public API; returns the login response body. */
export async function signUp(server: TestServer, email = `user-${randomBytes(4).toString("hex")}@example.com`, extra: Record<string, unknown> = {}) {
  const response = await server.call("POST", "/v1/passwords", { email, password: STRONG_PASSWORD, session_duration_minutes: 60, ...extra });
  if (response.status !== 200) throw new Error(`sign-up failed: ${JSON.stringify(response.body)}`);
  return response.body as { user_id: string; session_token: string; session_jwt: string; session: { session_id: string; expires_at: string; last_accessed_at: string; started_at: string } };
}
