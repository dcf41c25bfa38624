import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { assertBuilt, runTessera, startServer, type TesseraProcess } from "./server-process.js";

/** `tessera users import` as an operator runs it: a child process, without and with a running server. */

const md5 = (password: string) => createHash("md5").update(password).digest("hex");
const line = (email: string, extra: Record<string, unknown> = {}) => JSON.stringify({ email, hash: md5("Correct-horse-9"), hash_type: "md_5", ...extra });
const FILE_LINES = [
  line("ada@example.com", { name: { first_name: "Ada" } }),
  "{not json",
  line("grace@example.com"),
  line("ADA@example.com"),
  "",
  line("bad@example.com", { hash_type: "md_5", hash: "abcd" }),
  line("not-an-email"),
  line("pbkdf@example.com", { hash_type: "pbkdf_2", hash: "AAAA" }),
];
const EXPECTED_REJECTED = [
  { line: 2, error_type: "bad_request", error_message: "The line is not valid JSON." },
  { line: 4, error_type: "duplicate_email", error_message: "The email is also on line 1." },
  { line: 6, error_type: "invalid_hash", error_message: "a md_5 hash is 16 bytes: 32 hex digits (or base64)." },
  { line: 7, error_type: "invalid_email", error_message: expect.stringMatching(/^The email address is invalid/) },
  { line: 8, error_type: "invalid_hash", error_message: "pbkdf_2 needs pbkdf_2_config (salt, iteration_amount, key_length, algorithm)." },
];

describe("cli: tessera users import", () => {
  let environment: TestEnvironment;
  let file: string;
  let projectId: string;
  const cli = async (args: string[]) => {
    const run = await runTessera(args, environment.env, 60_000);
    expect(run.code, run.stderr).toBe(0);
    return { report: JSON.parse(run.stdout), stderr: run.stderr };
  };

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment();
    file = join(environment.dataDir, "users.jsonl");
    writeFileSync(file, `${FILE_LINES.join("\n")}\n`);
    projectId = (await cli(["projects", "create", "--name", "import", "--json"])).report.project_id;
  }, 90_000);
  afterAll(() => environment?.cleanup());

  it("reports exactly; a re-run creates nothing; works through a running server; never prints a hash", async () => {
    const first = await cli(["users", "import", "--project", projectId, "--file", file, "--json"]);
    expect(first.report).toEqual({ lines: 7, created: 2, updated: 0, already_present: 0, rejected: EXPECTED_REJECTED, seconds: expect.any(Number) });
    expect(first.stderr).not.toContain(md5("Correct-horse-9"));

    const again = await cli(["users", "import", "--project", projectId, "--file", file, "--json"]);
    expect(again.report).toMatchObject({ lines: 7, created: 0, updated: 0, already_present: 2, rejected: EXPECTED_REJECTED });

    let server: TesseraProcess | undefined;
    try {
      const started = await startServer(environment.env);
      server = started.process;
      writeFileSync(file, `${[line("grace@example.com"), line("linus@example.com")].join("\n")}\n`);
      const third = await cli(["users", "import", "--project", projectId, "--file", file, "--json"]);
      expect(third.report).toMatchObject({ lines: 2, created: 1, already_present: 1, rejected: [] });
      const events = await cli(["events", "--project", projectId, "--json"]);
      const created = events.report.filter((e: { type: string }) => e.type === "user.created");
      expect(created).toHaveLength(3);
      expect(created[0].actor).toBe("admin-api");
      expect(JSON.stringify(events.report)).not.toContain(md5("Correct-horse-9"));
    } finally {
      await server?.stop();
    }
  }, 180_000);
});
