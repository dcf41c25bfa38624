import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { POLICY } from "../rbac/fixtures.js";
import { assertBuilt, runTessera, startServer } from "../server-process.js";

/** `tessera rbac set|show` against a running embedded server (through its management API): in effect at once. */
describe("e2e: tessera rbac against a running server", () => {
  let environment: TestEnvironment;
  let server: Awaited<ReturnType<typeof startServer>>;
  let projectId: string;
  let auth: string;

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment();
    server = await startServer(environment.env);
    const created = JSON.parse((await runTessera(["projects", "create", "--name", "rbac", "--json"], environment.env)).stdout);
    projectId = created.project_id;
    auth = basicAuth(projectId, created.secret);
  }, 90_000);
  afterAll(async () => {
    await server?.process.stop();
    await environment?.cleanup();
  });

  const file = (name: string, content: string) => {
    const path = join(environment.dataDir, name);
    writeFileSync(path, content);
    return path;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: auth, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as any };
  };

  it("sets a policy that the running server serves and enforces at once, audited; shows it", async () => {
    const signup = await api("POST", "/v1/passwords", { email: "cli-rbac@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 });
    await api("PUT", `/v1/users/${signup.body.user_id}`, { roles: ["editor"] });
    const exchangeWith = (action: string) => api("POST", "/v1/sessions/authenticate", { session_token: signup.body.session_token, authorization_check: { resource_id: "documents", action } });
    expect((await exchangeWith("write")).status).toBe(403); // no policy yet

    const set = await runTessera(["rbac", "set", "--project", projectId, "--file", file("policy.json", JSON.stringify(POLICY)), "--json"], environment.env);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).policy.roles.map((r: { role_id: string }) => r.role_id)).toEqual(["stytch_user", "editor", "billing"]);
    expect((await exchangeWith("write")).body.verdict).toEqual({ authorized: true, granting_roles: ["editor"] });
    expect((await api("GET", "/v1/rbac/policy")).body.policy).toEqual({ ...POLICY, scopes: [] });

    const shown = await runTessera(["rbac", "show", "--project", projectId], environment.env);
    expect(shown.stdout).toContain("editor: documents [*]");
    const events = JSON.parse((await runTessera(["events", "--project", projectId, "--json"], environment.env)).stdout);
    expect(events[0]).toMatchObject({ type: "project.updated", actor: "admin-api", details: { changed: ["rbac_policy"] } });
  });

  it("refuses a bad policy file with a clear error and changes nothing", async () => {
    const before = (await api("GET", "/v1/rbac/policy")).body.policy;
    const typo = { ...POLICY, roles: [{ role_id: "editor", description: "", permissions: [{ resource_id: "document", actions: ["read"] }] }] };
    const refused = await runTessera(["rbac", "set", "--project", projectId, "--file", file("typo.json", JSON.stringify(typo)), "--json"], environment.env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error).toEqual({ type: "invalid_rbac_policy", message: 'The RBAC policy is invalid: role "editor", resource "document": no such resource in resources.' });
    const notJson = await runTessera(["rbac", "set", "--project", projectId, "--file", file("bad.json", "{roles:")], environment.env);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain("bad.json is not valid JSON");
    expect((await api("GET", "/v1/rbac/policy")).body.policy).toEqual(before);
  });
});
