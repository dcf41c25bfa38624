import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, createTestEnvironment, DATABASE_URL, type TestEnvironment } from "./helpers.js";
import { freePort, runTessera, TesseraProcess, type Exit } from "./server-process.js";

/**
 * The CLI as a user runs it: `node bin/tessera.cjs <args>`, a child process with an explicit
 * environment (the test environment plus PATH) and nothing inherited from the test runner.
 */

/** Upper bound for one CLI command; a hung process is killed and the test fails on its exit code. */
const COMMAND_TIMEOUT_MS = 45_000;
const DATABASE_KIND = DATABASE_URL ? "postgres" : "pglite";
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

type Env = Record<string, string | undefined>;

async function cli(args: string[], env: Env): Promise<Exit> {
  const run = await runTessera(args, env, COMMAND_TIMEOUT_MS);
  expect(run.timedOut, `tessera ${args.join(" ")} did not exit within ${COMMAND_TIMEOUT_MS} ms`).toBe(false);
  return run;
}

/** Runs a --json command that must succeed: exit 0 and exactly one JSON document on stdout. */
async function cliJson(args: string[], env: Env): Promise<any> {
  const run = await cli(args, env);
  expect(run.code, `tessera ${args.join(" ")} failed; stderr: ${run.stderr}`).toBe(0);
  expect(run.stdout.endsWith("\n")).toBe(true);
  expect(run.stdout.trimEnd().split("\n")).toHaveLength(1);
  return JSON.parse(run.stdout);
}

/**
 * A command that must fail: non-zero exit, nothing on stdout, and on stderr a `tessera: ` line, or
 * under --json one JSON document `{"error":{"type","message"}}`. Returns the message.
 */
async function cliFailure(args: string[], env: Env): Promise<string> {
  const run = await cli(args, env);
  expect(run.signal).toBeNull();
  expect(run.code).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.stdout).toBe("");
  if (!args.includes("--json")) {
    expect(run.stderr).toMatch(/^tessera: /m);
    return run.stderr;
  }
  const error = JSON.parse(run.stderr.trim().split("\n").at(-1)!).error;
  expect(error).toEqual({ type: expect.any(String), message: expect.any(String) });
  return `${error.type}: ${error.message}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `ready()` holds; throws after `ms`, or at once when the process has exited. */
async function waitUntil(what: string, server: TesseraProcess, ms: number, ready: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`the server exited while waiting for ${what}\nstdout: ${server.stdout}\nstderr: ${server.stderr}`);
    if (await ready()) return;
    await sleep(200);
  }
  throw new Error(`gave up after ${ms} ms waiting for ${what}\nstdout: ${server.stdout}\nstderr: ${server.stderr}`);
}

describe("tessera CLI: project administration", () => {
  let environment: TestEnvironment;
  let project: { project_id: string; secret_id: string; secret: string; public_token: string };
  let addedSecretId: string;

  // One environment: the commands share its database, one process at a time.
  beforeAll(async () => {
    environment = await createTestEnvironment();
  });
  afterAll(async () => {
    await environment?.cleanup();
  });

  it("migrate --json applies the migrations and is idempotent", async () => {
    const first = await cliJson(["migrate", "--json"], environment.env);
    expect(first).toEqual({ migrated: true, database: DATABASE_KIND });
    const second = await cliJson(["migrate", "--json"], environment.env);
    expect(second).toEqual({ migrated: true, database: DATABASE_KIND });
  }, 100_000);

  it("projects create --json prints the new project's credentials once", async () => {
    project = await cliJson(["projects", "create", "--name", "demo", "--json"], environment.env);
    expect(project).toEqual({
      project_id: expect.stringMatching(/^project-test-[0-9a-f-]{36}$/),
      secret_id: expect.stringMatching(/^secret-test-/),
      secret: expect.stringMatching(/^secret-test-[A-Za-z0-9_-]{20,}$/),
      public_token: expect.stringMatching(/^public-token-test-/),
    });
    expect(project.secret).not.toBe(project.secret_id);
  }, 60_000);

  it("projects list --json contains the project", async () => {
    const list = await cliJson(["projects", "list", "--json"], environment.env);
    expect(list).toEqual([{ project_id: project.project_id, name: "demo", created_at: expect.stringMatching(ISO_TIMESTAMP) }]);
    expect(Math.abs(Date.parse(list[0].created_at) - Date.now())).toBeLessThan(10 * 60_000);
  }, 60_000);

  it("secrets create --json adds a second secret", async () => {
    const created = await cliJson(["secrets", "create", "--project", project.project_id, "--json"], environment.env);
    expect(created).toEqual({
      project_id: project.project_id,
      secret_id: expect.stringMatching(/^secret-test-/),
      secret: expect.stringMatching(/^secret-test-[A-Za-z0-9_-]{20,}$/),
    });
    expect(created.secret_id).not.toBe(project.secret_id);
    expect(created.secret).not.toBe(project.secret);
    addedSecretId = created.secret_id;
  }, 60_000);

  it("secrets revoke --json revokes it; revoking it again fails naming the secret id", async () => {
    const revoked = await cliJson(["secrets", "revoke", "--project", project.project_id, "--secret-id", addedSecretId, "--json"], environment.env);
    expect(revoked).toEqual({ project_id: project.project_id, secret_id: addedSecretId, revoked: true });

    const stderr = await cliFailure(["secrets", "revoke", "--project", project.project_id, "--secret-id", addedSecretId, "--json"], environment.env);
    expect(stderr).toContain(addedSecretId);
    expect(stderr).toMatch(/no live secret/);
  }, 100_000);

  it("public-tokens create --json adds a public token", async () => {
    const created = await cliJson(["public-tokens", "create", "--project", project.project_id, "--json"], environment.env);
    expect(created).toEqual({ project_id: project.project_id, public_token: expect.stringMatching(/^public-token-test-/) });
    expect(created.public_token).not.toBe(project.public_token);
  }, 60_000);

  it("keys list / rotate / rotate --now / reencrypt --json manage the signing keys", async () => {
    const [first] = await cliJson(["keys", "list", "--project", project.project_id, "--json"], environment.env);
    expect(first).toMatchObject({ alg: "RS256", state: "current", retired_at: null });

    const scheduled = await cliJson(["keys", "rotate", "--project", project.project_id, "--json"], environment.env);
    expect(scheduled.moves).toEqual([{ kid: expect.any(String), to: "created" }]);
    const withNext = await cliJson(["keys", "list", "--project", project.project_id, "--json"], environment.env);
    expect(withNext.map((k: { state: string }) => k.state)).toEqual(["current", "next"]);
    expect(Date.parse(withNext[1].activate_at)).toBeGreaterThan(Date.now() + 5 * 60_000); // published well before it signs

    const leak = await cliJson(["keys", "rotate", "--project", project.project_id, "--now", "--json"], environment.env);
    expect(leak.moves.map((m: { to: string }) => m.to)).toEqual(["retired", "retired", "current"]);
    const after = await cliJson(["keys", "list", "--project", project.project_id, "--json"], environment.env);
    expect(after.filter((k: { state: string }) => k.state !== "retired")).toHaveLength(1);

    expect(await cliJson(["keys", "reencrypt", "--json"], environment.env)).toEqual({ reencrypted: 3, session_tokens: 0, session_tokens_unreadable: 0 });
  }, 150_000);

  it("events --json lists the audit log, newest first, filterable by user", async () => {
    const events = await cliJson(["events", "--project", project.project_id, "--json"], environment.env);
    const types = events.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(["project.created", "secret.created", "secret.revoked", "key.created", "key.retired"]));
    expect(events[0].event_id).toBeGreaterThan(events.at(-1).event_id);
    expect(await cliJson(["events", "--project", project.project_id, "--user", "user-test-nobody", "--json"], environment.env)).toEqual([]);
    expect(await cliFailure(["events", "--project", project.project_id, "--limit", "0"], environment.env)).toMatch(/--limit/);
  }, 100_000);

  it("secrets create for an unknown project fails with a clear message", async () => {
    const unknown = "project-test-00000000-0000-4000-8000-000000000000";
    expect(await cliFailure(["secrets", "create", "--project", unknown, "--json"], environment.env)).toBe(`project_not_found: no project ${unknown}`);
    expect(await cliFailure(["secrets", "create", "--project", unknown], environment.env)).toBe(`tessera: no project ${unknown}\n`);
  }, 60_000);

  it("a malformed PORT stops the CLI with a message naming PORT", async () => {
    const stderr = await cliFailure(["serve"], { ...environment.env, PORT: "notaport" });
    expect(stderr).toMatch(/^tessera: PORT: /m);
  }, 60_000);

  it("NODE_ENV=production without DATABASE_URL stops the CLI with a message naming DATABASE_URL", async () => {
    // PORT=0: should the check ever regress, the server that starts takes a free port instead of 3000
    const stderr = await cliFailure(["serve"], { ...environment.env, NODE_ENV: "production", DATABASE_URL: undefined, PORT: "0" });
    expect(stderr).toMatch(/^tessera: DATABASE_URL: .*required/m);
  }, 60_000);
});

describe("tessera CLI: a different master key", () => {
  let environment: TestEnvironment;
  beforeAll(async () => {
    environment = await createTestEnvironment();
  });
  afterAll(async () => {
    await environment?.cleanup();
  });

  it("refuses data sealed under another master key, naming the master key", async () => {
    const keyA = environment.env.TESSERA_MASTER_KEY!;
    const keyB = randomBytes(32).toString("base64");
    expect(keyB).not.toBe(keyA);

    const created = await cliJson(["projects", "create", "--name", "sealed", "--json"], { ...environment.env, TESSERA_MASTER_KEY: keyA });

    const stderr = await cliFailure(["projects", "list", "--json"], { ...environment.env, TESSERA_MASTER_KEY: keyB });
    expect(stderr).toMatch(/master key cannot open the stored signing keys/);
    expect(stderr).toMatch(/TESSERA_MASTER_KEY/);
    expect(stderr).not.toContain(keyA);
    expect(stderr).not.toContain(keyB);

    // control: the same data opens under key A, so the failure above was the key
    const list = await cliJson(["projects", "list", "--json"], { ...environment.env, TESSERA_MASTER_KEY: keyA });
    expect(list.map((p: { project_id: string }) => p.project_id)).toEqual([created.project_id]);
  }, 150_000);
});

describe("tessera serve", () => {
  const PASSWORD = "violet-Tractor-sunrise-91!";
  let environment: TestEnvironment;
  let server: TesseraProcess | undefined;

  beforeAll(async () => {
    environment = await createTestEnvironment();
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });
  afterAll(async () => {
    await environment?.cleanup();
  });

  it("prints a working development project on first start, serves it, and stops cleanly on SIGTERM without logging credentials", async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // the most verbose level: whatever the server logs, this test sees
    const running = (server = new TesseraProcess(["serve"], { ...environment.env, PORT: String(port), LOG_LEVEL: "trace" }));

    await waitUntil("GET /healthz", running, 30_000, async () => {
      try {
        const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
        return response.status === 200 && (await response.json()).status === "ok";
      } catch {
        return false;
      }
    });
    // the banner is written right after listening; stdout may arrive a moment after the health check
    await waitUntil("the first-start banner", running, 5_000, () => running.stdout.includes("/v1/passwords/authenticate"));

    const banner = running.stdout;
    const projectId = banner.match(/^\s*project_id\s+(project-test-\S+)$/m)?.[1];
    const secret = banner.match(/^\s*secret\s+(secret-test-\S+)$/m)?.[1];
    const publicToken = banner.match(/^\s*public_token\s+(public-token-test-\S+)$/m)?.[1];
    expect(projectId).toMatch(/^project-test-[0-9a-f-]{36}$/);
    expect(secret).toMatch(/^secret-test-[A-Za-z0-9_-]{20,}$/);
    expect(publicToken).toMatch(/^public-token-test-/);
    const curl = banner.match(/^\s*curl -s -u '([^':]+):([^']+)' .*$/m);
    expect(curl, `no curl line in:\n${banner}`).not.toBeNull();
    expect(curl![1]).toBe(projectId);
    expect(curl![2]).toBe(secret);
    // the default PUBLIC_URL follows PORT
    expect(banner).toContain(`http://localhost:${port}/v1/passwords\n`);

    const authorization = basicAuth(projectId!, secret!);
    const response = await fetch(`${baseUrl}/v1/passwords`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", password: PASSWORD, session_duration_minutes: 60 }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as { session_token?: unknown; session_jwt?: unknown; user?: { emails?: { email: string }[] } };
    expect(body.session_token).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/));
    expect(body.session_jwt).toEqual(expect.stringMatching(/^eyJ/));
    expect(body.user?.emails?.[0]?.email).toBe("ada@example.com");
    const sessionToken = body.session_token as string;
    const sessionJwt = body.session_jwt as string;

    expect(running.child.kill("SIGTERM")).toBe(true);
    const exit = await running.waitForExit(15_000);
    expect(exit.timedOut, `no exit within 15 s of SIGTERM\nstdout: ${exit.stdout}\nstderr: ${exit.stderr}`).toBe(false);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);

    const output = `${exit.stdout}\n${exit.stderr}`;
    // the logs were on and saw the request and the drain, so their silence about credentials means something
    expect(output).toContain('"path":"/v1/passwords"');
    expect(output).toContain('"msg":"draining"');
    expect(output).toContain('"msg":"stopped"');
    expect(output).not.toContain(sessionToken);
    expect(output).not.toContain(sessionJwt);
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain(authorization.slice("Basic ".length));
  }, 90_000);
});
