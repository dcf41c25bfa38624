import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { assertBuilt, runTessera, startServer, type TesseraProcess } from "./server-process.js";

/**
 * The embedded database (PGlite in DATA_DIR) serves one process: a second server or a CLI command on
 * the same DATA_DIR is refused while the first runs, a lock left by kill -9 does not block a restart,
 * and an unusable DATA_DIR stops start-up at once. Always embedded, also when the suite runs on the
 * real services: the child gets no DATABASE_URL.
 */
const REFUSAL_MS = 20_000;

describe("one process per embedded DATA_DIR", () => {
  let environment: TestEnvironment;
  let env: Record<string, string | undefined>;
  let server: TesseraProcess | undefined;
  let lockFile: string;

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment();
    env = { ...environment.env, DATABASE_URL: undefined, REDIS_URL: undefined, LOG_LEVEL: "warn" };
    lockFile = join(environment.dataDir, "tessera.lock");
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
  });
  afterAll(async () => {
    await environment?.cleanup();
  });

  const credentials = (banner: string) => {
    const projectId = banner.match(/^\s*project_id\s+(project-test-\S+)$/m)?.[1];
    const secret = banner.match(/^\s*secret\s+(secret-test-\S+)$/m)?.[1];
    expect(projectId, banner).toBeDefined();
    return { projectId: projectId!, authorization: basicAuth(projectId!, secret!) };
  };

  const createUser = async (url: string, authorization: string, email: string) => {
    const response = await fetch(`${url}/v1/users`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify({ email }) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { user_id: string }).user_id;
  };

  const expectRefusedNaming = (run: Awaited<ReturnType<typeof runTessera>>, pid: number) => {
    expect(run.timedOut, `still running after ${REFUSAL_MS} ms: the second process was not refused`).toBe(false);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`DATA_DIR ${environment.dataDir} is in use by process ${pid}`);
    expect(run.stderr).toContain("DATABASE_URL");
  };

  it("refuses a second server and a CLI command while a server runs, loses nothing, and frees DATA_DIR on exit", async () => {
    const first = await startServer(env);
    server = first.process;
    await expect.poll(() => first.process.stdout.includes("secret ")).toBe(true);
    const { projectId, authorization } = credentials(first.process.stdout);
    const userId = await createUser(first.url, authorization, "kept@example.com");

    expectRefusedNaming(await runTessera(["serve"], { ...env, PORT: "0" }, REFUSAL_MS), first.process.pid);
    // A command that opens the database itself is refused; the management verbs go through the server.
    const direct = await runTessera(["migrate"], env, REFUSAL_MS);
    expectRefusedNaming(direct, first.process.pid);
    expect(direct.stdout).toBe("");
    expect(direct.stderr).toMatch(/Stop that process/);
    const through = await runTessera(["projects", "list", "--json"], env, REFUSAL_MS);
    expect(through.code, through.stderr).toBe(0);
    expect(JSON.parse(through.stdout).map((p: { project_id: string }) => p.project_id)).toEqual([projectId]);
    expect(readFileSync(lockFile, "utf8").trim()).toBe(String(first.process.pid));

    // the first server was not disturbed
    const read = await fetch(`${first.url}/v1/users/${userId}`, { headers: { authorization } });
    expect(read.status).toBe(200);

    first.process.child.kill("SIGTERM");
    expect((await first.process.waitForExit(15_000)).code).toBe(0);
    expect(existsSync(lockFile)).toBe(false);

    // with the server gone, the CLI opens DATA_DIR and finds everything the server wrote
    const events = await runTessera(["events", "--project", projectId, "--json"], env);
    expect(events.code, events.stderr).toBe(0);
    expect(JSON.parse(events.stdout).map((e: { type: string; user_id: string | null }) => [e.type, e.user_id])).toContainEqual(["user.created", userId]);
    expect(existsSync(lockFile)).toBe(false);
  }, 120_000);

  it("takes over the lock of a server killed with -9: the restart works and keeps the data", async () => {
    const first = await startServer(env);
    server = first.process;
    expect((await runTessera(["migrate"], env, REFUSAL_MS)).code).not.toBe(0); // held while it runs
    await first.process.kill(); // SIGKILL, reaped
    expect(readFileSync(lockFile, "utf8").trim()).toBe(String(first.process.pid)); // left behind

    const second = await startServer(env);
    server = second.process;
    expect(readFileSync(lockFile, "utf8").trim()).toBe(String(second.process.pid));
    expectRefusedNaming(await runTessera(["migrate"], env, REFUSAL_MS), second.process.pid);
    // the restarted server announced itself over the dead one's file: the CLI goes through it
    const list = await runTessera(["projects", "list", "--json"], env, REFUSAL_MS);
    expect(list.code, list.stderr).toBe(0);

    second.process.child.kill("SIGTERM");
    expect((await second.process.waitForExit(15_000)).code).toBe(0);
    const after = await runTessera(["projects", "list", "--json"], env);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toHaveLength(1); // the development project of the first test, intact
  }, 120_000);

  it("stops at once, naming DATA_DIR, when DATA_DIR cannot be used", async () => {
    const file = join(environment.dataDir, "a-file");
    writeFileSync(file, "not a folder");
    const unusable = [file, join(file, "below"), ...(process.platform === "linux" ? ["/proc/tessera-nope", "/proc"] : [])];
    for (const dataDir of unusable) {
      for (const args of [["serve"], ["projects", "list"]]) {
        const run = await runTessera(args, { ...env, DATA_DIR: dataDir, PORT: "0" }, 15_000);
        expect(run.timedOut, `tessera ${args.join(" ")} with DATA_DIR=${dataDir} hung`).toBe(false);
        expect(run.code).not.toBe(0);
        expect(run.stderr).toContain(`tessera: DATA_DIR ${dataDir} is not usable`);
      }
    }
  }, 120_000);
});
