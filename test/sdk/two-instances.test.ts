import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createVerifier, TesseraVerifyError, type Verifier } from "../../src/sdk/verify.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { startServer } from "../server-process.js";

const PUBLIC_URL = "http://tessera.test"; // both instances sit behind one public URL, as behind a load balancer

/** Real Postgres and Redis shared by two server processes: the production topology. */
describe.skipIf(!DATABASE_URL || !REDIS_URL)("two server instances sharing Postgres and Redis", () => {
  let environment: TestEnvironment;
  let project: CreatedProject;
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;
  let verifier: Verifier;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    project = await createProject(deps, { name: "two-instances" });
    await deps.close();
    [a, b] = await Promise.all([startServer(environment.env), startServer(environment.env)]);
  }, 90_000);

  afterAll(async () => {
    verifier?.close();
    await Promise.all([a?.process.stop(), b?.process.stop()]);
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
