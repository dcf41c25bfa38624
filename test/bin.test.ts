import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/** The installed entry point, `node bin/tessera.cjs`, run from a user's working folder. */
const BIN = fileURLToPath(new URL("../bin/tessera.cjs", import.meta.url));
const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), "tessera-bin-"));
const tessera = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [BIN, ...args], { cwd: folder, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 }).then(
    (ok) => ({ code: 0, ...ok }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );

describe("bin/tessera.cjs", () => {
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect((await tessera(["--version"])).stdout.trim()).toBe(version);
  });

  it("reads .env from the working folder, and the real environment wins over it", async () => {
    writeFileSync(join(folder, ".env"), "PORT=not-a-port\n");
    const fromFile = await tessera(["serve"]);
    expect(fromFile.code).not.toBe(0);
    expect(fromFile.stderr).toMatch(/PORT: /);
    const overridden = await tessera(["serve"], { PORT: "also-wrong", LOG_LEVEL: "nope" });
    expect(overridden.stderr).toMatch(/LOG_LEVEL/);
    expect(overridden.stderr).not.toMatch(/not-a-port/);
  });
});
