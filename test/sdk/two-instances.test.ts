import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createVerifier, TesseraVerifyError, type Verifier } from "../../src/sdk/verify.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";

const root = join(import.meta.dirname, "../..");
const PUBLIC_URL = "http://tessera.test"; // both instances sit behind one public URL, as behind a load balancer

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function startInstance(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "serve"], {
    cwd: root,
    env: { ...env, PATH: process.env.PATH ?? "", PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("instance did not start");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Real Postgres and Redis shared by two server processes: the production topology. */
describe.skipIf(!DATABASE_URL || !REDIS_URL)("two server instances sharing Postgres and Redis", () => {
  let environment: TestEnvironment;
  let project: CreatedProject;
  let a: { url: string; child: ChildProcess };
  let b: { url: string; child: ChildProcess };
  let verifier: Verifier;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    project = await createProject(deps, { name: "two-instances" });
    await deps.close();
    [a, b] = await Promise.all([startInstance(environment.env), startInstance(environment.env)]);
  }, 90_000);

  afterAll(async () => {
    verifier?.close();
    for (const instance of [a, b]) {
      if (!instance) continue;
      const exited = new Promise((resolve) => instance.child.once("exit", resolve));
      instance.child.kill("SIGTERM");
      await exited;
    }
    await environment.cleanup();
  });

  it("a revocation on one instance reaches a verifier fed by the other within a second, with no per-request server call", async () => {
    const authorization = basicAuth(project.project.projectId, project.secret);
    const login = await (
      await fetch(`${a.url}/v1/passwords`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify({ email: "two@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 }),
      })
    ).json();

    let exchanges = 0;
    verifier = createVerifier({
      url: b.url,
      projectId: project.project.projectId,
      secret: project.secret,
      fetch: async (input, init) => {
        if (String(input instanceof Request ? input.url : input).endsWith("/v1/sessions/authenticate")) exchanges++;
        return fetch(input, init);
      },
    });
    await verifier.ready();
    expect((await verifier.authenticateJwt(login.session_jwt)).verified_by).toBe("local");

    const revokedAt = performance.now();
    const revoke = await fetch(`${a.url}/v1/sessions/revoke`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify({ session_id: login.session.session_id }) });
    expect(revoke.status).toBe(200);
    let elapsed = Infinity;
    while (performance.now() - revokedAt < 2000) {
      try {
        await verifier.authenticateJwt(login.session_jwt);
      } catch (error) {
        if (error instanceof TesseraVerifyError && error.code === "session_revoked") {
          elapsed = performance.now() - revokedAt;
          break;
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    console.log(`revocation reached the verifier through the other instance in ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(exchanges).toBe(0);
  });
});
