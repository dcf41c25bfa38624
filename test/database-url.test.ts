import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { freePort, runTessera } from "./server-process.js";

/**
 * A DATABASE_URL that cannot be used stops `tessera serve` and the CLI within seconds, with a message
 * that names the variable and the cause and never the password. Runs on any machine: the URLs point at
 * nothing, or at something that is not Postgres.
 */
const PASSWORD = "s3cret-Pa55word";

describe("an unusable DATABASE_URL", () => {
  let environment: TestEnvironment;
  let notPostgres: Server;
  let notPostgresPort: number;
  /** How long `tessera --version` takes here: the bounds below are on top of starting node (a busy machine is slow at that). */
  let nodeStartSeconds: number;

  beforeAll(async () => {
    environment = await createTestEnvironment();
    // accepts connections and answers like an HTTP server, as a wrong port (or an egress proxy) does
    notPostgres = createServer((socket) => {
      socket.on("error", () => {}); // the client giving up resets the connection: expected, not a test failure
      socket.once("data", () => socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"));
    });
    await new Promise<void>((resolve) => notPostgres.listen(0, "127.0.0.1", resolve));
    notPostgresPort = (notPostgres.address() as { port: number }).port;
    const started = performance.now();
    expect((await runTessera(["--version"], {})).code).toBe(0);
    nodeStartSeconds = (performance.now() - started) / 1000;
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => notPostgres.close(resolve));
    await environment.cleanup();
  });

  const start = async (args: string[], databaseUrl: string) => {
    const started = performance.now();
    const run = await runTessera(args, { ...environment.env, DATABASE_URL: databaseUrl, PORT: String(await freePort()), ADMIN_PORT: "off" }, 90_000);
    return { ...run, seconds: (performance.now() - started) / 1000 };
  };

  it("serve with a closed port: exit 1 within seconds, naming DATABASE_URL and ECONNREFUSED, not the password", async () => {
    const port = await freePort();
    const run = await start(["serve"], `postgres://tessera:${PASSWORD}@127.0.0.1:${port}/tessera`);
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(nodeStartSeconds * 2 + 3);
    expect(run.stderr).toContain(`DATABASE_URL: cannot connect to postgres://tessera:***@127.0.0.1:${port}/tessera`);
    expect(run.stderr).toContain("ECONNREFUSED");
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it("migrate with an unknown host: the same, with the DNS failure as the cause (and a password in the query hidden too)", async () => {
    const run = await start(["migrate"], `postgres://tessera:${PASSWORD}@no-such-host.invalid:5432/tessera?password=${PASSWORD}`);
    expect(run.code).toBe(1);
    expect(run.seconds).toBeLessThan(nodeStartSeconds * 2 + 3);
    expect(run.stderr).toMatch(/^tessera: DATABASE_URL: cannot connect to postgres:\/\/tessera:\*\*\*@no-such-host\.invalid:5432\/tessera\?password=\*\*\*: .*(ENOTFOUND|EAI_AGAIN)/m);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it("a port that answers but is not Postgres: serve and the CLI give up after the first-contact bound instead of hanging", async () => {
    const url = `postgres://tessera:${PASSWORD}@127.0.0.1:${notPostgresPort}/tessera`;
    const [serve, cli] = await Promise.all([start(["serve"], url), start(["projects", "list", "--json"], url)]);
    for (const run of [serve, cli]) {
      expect(run.timedOut).toBe(false);
      expect(run.code).toBe(1);
      expect(run.seconds).toBeLessThan(nodeStartSeconds * 2 + 5 + 3); // the 5 s bound on top of starting node
      expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    }
    expect(serve.stderr).toContain(`DATABASE_URL: postgres://tessera:***@127.0.0.1:${notPostgresPort}/tessera did not answer as Postgres within 5 s`);
    // under --json the failure is JSON on stderr
    expect(JSON.parse(cli.stderr)).toEqual({ error: { type: "invalid_configuration", message: expect.stringContaining("DATABASE_URL: postgres://tessera:***@") } });
  });
});
