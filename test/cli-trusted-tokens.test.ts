import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { runTessera } from "./server-process.js";

/** `tessera trusted-tokens …` as a user runs it (the shipped bin, a child process), straight on the database. */
describe("tessera CLI: trusted token profiles", () => {
  let environment: TestEnvironment;
  const json = async (args: string[]) => {
    const run = await runTessera(args, environment.env, 45_000);
    expect(run.code, `tessera ${args.join(" ")}: ${run.stderr}`).toBe(0);
    return JSON.parse(run.stdout);
  };
  beforeAll(async () => {
    environment = await createTestEnvironment();
  });
  afterAll(() => environment?.cleanup());

  it("create --json → {profile_id, …}; list shows it; delete removes it; a bad mapping or URL changes nothing", async () => {
    const project = await json(["projects", "create", "--name", "attest", "--json"]);
    const args = ["--project", project.project_id, "--name", "Partner", "--issuer", "https://id.partner.example", "--audience", "tessera"];
    const created = await json(["trusted-tokens", "create", ...args, "--jwks-url", "https://id.partner.example/jwks.json", "--attribute-mapping", '{"email":"mail"}', "--can-jit-provision", "--json"]);
    expect(created).toMatchObject({ profile_id: expect.stringMatching(/^trusted-token-profile-test-/), issuer: "https://id.partner.example", audience: "tessera", attribute_mapping: { email: "mail" }, can_jit_provision: true });
    expect((await json(["trusted-tokens", "list", "--project", project.project_id, "--json"])).map((p: { profile_id: string }) => p.profile_id)).toEqual([created.profile_id]);

    const plainHttp = await runTessera(["trusted-tokens", "create", ...args, "--jwks-url", "http://id.partner.example/jwks.json", "--json"], environment.env, 45_000);
    expect(plainHttp.code).toBe(1);
    expect(JSON.parse(plainHttp.stderr).error.type).toBe("invalid_trusted_token_profile");
    const badMapping = await runTessera(["trusted-tokens", "create", ...args, "--jwks-url", "https://id.partner.example/jwks.json", "--attribute-mapping", '{"shoe":"size"}', "--json"], environment.env, 45_000);
    expect(JSON.parse(badMapping.stderr).error.type).toBe("invalid_trusted_token_profile");

    expect(await json(["trusted-tokens", "delete", "--project", project.project_id, "--profile-id", created.profile_id, "--json"])).toEqual({ project_id: project.project_id, profile_id: created.profile_id, deleted: true });
    expect(await json(["trusted-tokens", "list", "--project", project.project_id, "--json"])).toEqual([]);
  }, 240_000);
});
