import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { startServer } from "../server-process.js";

/** The bound the README states for a settings change to reach every instance. */
const SETTINGS_BOUND_MS = 2_000;
const ADMIN_KEY = randomBytes(24).toString("hex");

const lifetimeOf = (jwt: string) => {
  const { iat, exp } = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());
  return exp - iat;
};

/** A settings change made through instance A's management API changes what instance B does, within the bound. */
describe.skipIf(!DATABASE_URL || !REDIS_URL)("a settings change on one instance reaches the other", () => {
  let environment: TestEnvironment;
  let project: CreatedProject;
  let a: Awaited<ReturnType<typeof startServer>>;
  let b: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    environment = await createTestEnvironment({ PUBLIC_URL: "http://tessera.test", TESSERA_ADMIN_KEY: ADMIN_KEY, ADMIN_ON_PUBLIC_LISTENER: "true", ADMIN_PORT: "off" });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    project = await createProject(deps, { name: "settings-two-instances" });
    await deps.close();
    [a, b] = await Promise.all([startServer(environment.env), startServer(environment.env)]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.process.stop(), b?.process.stop()]);
    await environment?.cleanup();
  });

  it(`jwtLifetimeSeconds changed through A's admin API shapes B's next JWT within ${SETTINGS_BOUND_MS} ms`, async () => {
    const authorization = basicAuth(project.project.projectId, project.secret);
    const post = (base: string, path: string, body: unknown) => fetch(`${base}${path}`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
    const login = await (await post(b.url, "/v1/passwords", { email: "settings@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 })).json();
    expect(lifetimeOf(login.session_jwt)).toBe(300);
    const exchangeAtB = async () => lifetimeOf((await (await post(b.url, "/v1/sessions/authenticate", { session_token: login.session_token })).json()).session_jwt);
    expect(await exchangeAtB()).toBe(300); // B has served (and may have cached) the old setting

    const patch = await fetch(`${a.url}/admin/v1/projects/${project.project.projectId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ settings: { jwtLifetimeSeconds: 120 } }),
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    const changedAt = performance.now();
    let lifetime = await exchangeAtB();
    while (lifetime !== 120 && performance.now() - changedAt < SETTINGS_BOUND_MS + 1_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lifetime = await exchangeAtB();
    }
    const elapsed = performance.now() - changedAt;
    console.log(`B minted with the new lifetime ${elapsed.toFixed(0)} ms after A's change`);
    expect(lifetime).toBe(120);
    expect(elapsed).toBeLessThan(SETTINGS_BOUND_MS);
  });
});
