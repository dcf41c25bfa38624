import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { assertBuilt, freePort, TesseraProcess } from "./server-process.js";

/**
 * A script that starts `tessera serve`, waits for /readyz and then runs the CLI on the same DATA_DIR
 * must find the server (DATA_DIR/server.json) rather than the embedded database's lock. CI once failed
 * on exactly that: /readyz answered while the server was still making its first project.
 */
describe("readiness", () => {
  let environment: TestEnvironment | undefined;
  let server: TesseraProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    await environment?.cleanup();
  });

  it("answers /readyz 200 only once start-up is complete: the server is announced to the CLI by then", async () => {
    assertBuilt();
    environment = await createTestEnvironment();
    const port = await freePort();
    server = new TesseraProcess(["serve"], { ...environment.env, PORT: String(port), HOST: "127.0.0.1", PUBLIC_URL: `http://127.0.0.1:${port}` });
    const deadline = Date.now() + 45_000;
    let answers = 0;
    for (;;) {
      expect(server.exited, server.stderr).toBe(false);
      expect(Date.now()).toBeLessThan(deadline);
      const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((response) => response.status, () => null);
      if (status !== null) answers++;
      if (status === 200) break; // no pause between tries: the window before the announcement is milliseconds
    }
    expect(existsSync(join(environment.dataDir, "server.json"))).toBe(true);
    console.log(`readiness: ${answers} answers from the listener before the first 200`);
  }, 60_000);
});
