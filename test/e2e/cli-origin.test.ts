import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoServer, type DemoServer } from "../../examples/browser-demo/serve.js";
import { createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { runTessera, startServer } from "../server-process.js";

/**
 * A new user's path, with no internal call: `npm start` (the embedded server, a child process), then
 * the CLI while it runs, through its management API: a project, its browser origin allowed, and the
 * frontend SDK in Chromium signs up and in from that origin.
 */
const CHROMIUM = "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("e2e: a browser origin allowed through the CLI against a running server", () => {
  let environment: TestEnvironment;
  let server: Awaited<ReturnType<typeof startServer>>;
  let demo: DemoServer;
  let browser: Browser;

  beforeAll(async () => {
    environment = await createTestEnvironment();
    server = await startServer(environment.env);
    demo = await startDemoServer({ port: 0, host: "127.0.0.1" });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 20_000,
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    await server?.process.stop();
    await environment?.cleanup();
  });

  const cli = async (args: string[]) => {
    const run = await runTessera([...args, "--json"], environment.env);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };

  it("signs up in Chromium once the CLI has allowed the page's origin", async () => {
    const project = await cli(["projects", "create", "--name", "shop"]);
    const tesseraUrl = server.url.replace("127.0.0.1", "localhost"); // a secure context for __Host- cookies
    const page = await browser.newPage();
    const open = async () => {
      await page.goto(`${demo.url}/?tessera=${encodeURIComponent(tesseraUrl)}&token=${encodeURIComponent(project.public_token)}`);
      await page.waitForFunction(() => document.getElementById("status")?.textContent !== "Loading…", null, { timeout: 10_000 });
    };
    const signUp = async () => {
      await page.fill("#email", "cli-e2e@example.com");
      await page.fill("#password", STRONG_PASSWORD);
      await page.click("#signup");
    };
    await open();
    await signUp();
    // Not allowed yet: the preflight is refused, the SDK reports the failure, nobody is signed in.
    await page.waitForFunction(() => (document.getElementById("error")?.textContent ?? "") !== "", null, { timeout: 10_000 });
    expect(await page.textContent("#status")).toBe("Signed out");

    const updated = await cli(["projects", "update", "--project", project.project_id, "--allow-origin", demo.url]);
    expect(updated.changed).toEqual(["allowedOrigins"]);
    expect(updated.settings.allowedOrigins).toEqual([demo.url]);

    await open();
    await signUp();
    await page.waitForFunction(() => /Signed in as cli-e2e@example\.com/.test(document.getElementById("status")?.textContent ?? ""), null, { timeout: 10_000 });

    // The CLI went through the running server (the embedded database admits one process): the audit log says so.
    const events = await cli(["events", "--project", project.project_id]);
    expect(events.find((e: { type: string }) => e.type === "project.updated")).toMatchObject({ actor: "admin-api", details: { changed: ["allowedOrigins"] } });
  });
});
