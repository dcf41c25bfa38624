import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoServer, type DemoServer } from "../../examples/browser-demo/serve.js";
import { basicAuth, createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { ROOT, runTessera, startServer } from "../server-process.js";

/**
 * The SDK packages as an app gets them: `npm run build:packages`, `npm pack` each, the tarballs installed
 * into a fresh project outside this repo, then used there against a real server (the shipped bin): the
 * verifier and the Hono middleware in Node, the browser SDK loaded by a page without a bundler.
 */

const run = promisify(execFile);
const CHROMIUM = "/usr/bin/chromium";
const SERVER_ONLY = ["@electric-sql/pglite", "@node-rs/argon2", "postgres", "ioredis", "drizzle-orm", "pino", "zod", "@hono/node-server", "prom-client", "commander"];

interface Tree {
  version?: string;
  dependencies?: Record<string, Tree>;
}

/** Every package name in an `npm ls --all --json` tree. */
function namesIn(tree: Tree): string[] {
  return Object.entries(tree.dependencies ?? {}).flatMap(([name, child]) => [name, ...namesIn(child)]);
}

const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, maxBuffer: 16 * 1024 * 1024 });

describe("the SDK packages, installed on their own", () => {
  let work: string;
  let app: string;
  let environment: TestEnvironment;
  let server: Awaited<ReturnType<typeof startServer>>;
  let demo: DemoServer;
  let project: { project_id: string; secret: string; public_token: string };
  let jwt: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "tessera-packages-"));
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "an-app", private: true, type: "module" }));
    environment = await createTestEnvironment();
    demo = await startDemoServer({ port: 0, host: "127.0.0.1", sdkFile: join(app, "node_modules/tessera-browser/index.js") });

    const packaging = (async () => {
      await run("npm", ["run", "build:packages", "--", "--out", join(work, "built")], { cwd: ROOT });
      const packed = await npm(["pack", "--json", "--pack-destination", work, ...["verify", "hono", "browser"].map((p) => join(work, "built", p))], work);
      const tarballs = (JSON.parse(packed.stdout) as { filename: string }[]).map((t) => join(work, t.filename));
      // from the npm cache where it can (jose and hono are what the repo itself installed)
      await npm(["install", "--prefer-offline", "--ignore-scripts", ...tarballs], app);
    })();
    const serving = startServer(environment.env);
    [server] = await Promise.all([serving, packaging]);

    const created = await runTessera(["projects", "create", "--name", "packages", "--set", `allowedOrigins=["${demo.url}"]`, "--json"], environment.env);
    expect(created.code, created.stderr).toBe(0);
    project = JSON.parse(created.stdout);
    const signUp = await fetch(`${server.url}/v1/passwords`, {
      method: "POST",
      headers: { authorization: basicAuth(project.project_id, project.secret), "content-type": "application/json" },
      body: JSON.stringify({ email: "packaged@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 }),
    });
    expect(signUp.status).toBe(200);
    jwt = (await signUp.json()).session_jwt;
  }, 180_000);

  afterAll(async () => {
    await demo?.close();
    await server?.process.stop();
    await environment?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs nothing of the server: verify brings jose, hono its peer, browser nothing", async () => {
    const { stdout } = await npm(["ls", "--all", "--json"], app);
    const tree = JSON.parse(stdout) as Tree;
    const names = namesIn(tree);
    expect(names.filter((name) => SERVER_ONLY.includes(name))).toEqual([]);
    expect(new Set(names)).toEqual(new Set(["tessera-verify", "tessera-hono", "tessera-browser", "jose", "hono"]));
    const installed = (name: string) => JSON.parse(readFileSync(join(app, "node_modules", name, "package.json"), "utf8"));
    expect(installed("tessera-verify").dependencies).toEqual({ jose: expect.any(String) });
    expect(installed("tessera-hono").dependencies).toEqual({ "tessera-verify": expect.any(String) });
    expect(Object.keys(installed("tessera-hono").peerDependencies)).toEqual(["hono"]);
    expect(installed("tessera-browser").dependencies).toBeUndefined();
    for (const name of ["tessera-verify", "tessera-hono", "tessera-browser"]) {
      for (const file of ["README.md", "LICENSE"]) expect(existsSync(join(app, "node_modules", name, file)), `${name}/${file}`).toBe(true);
    }
  });

  it("verifies a real Tessera JWT with tessera-verify and guards a Hono route with tessera-hono", async () => {
    writeFileSync(
      join(app, "check.mjs"),
      `import { Hono } from "hono";
import { session } from "tessera-hono";
import { createVerifier, TesseraVerifyError } from "tessera-verify";
const [url, projectId, jwt] = process.argv.slice(2);
const verifier = createVerifier({ url, projectId });
const verified = await verifier.authenticateJwt(jwt);
const web = new Hono().get("/me", session({ verifier }), (c) => c.json({ user_id: c.get("tessera").user_id }));
const ok = await web.request("/me", { headers: { authorization: "Bearer " + jwt } });
const tampered = await web.request("/me", { headers: { authorization: "Bearer " + jwt.slice(0, -4) + "AAAA" } });
let refused = null;
try { await verifier.authenticateJwt("not-a-jwt"); } catch (error) { refused = error instanceof TesseraVerifyError ? error.code : String(error); }
console.log(JSON.stringify({ verified_by: verified.verified_by, user_id: verified.user_id, ok: [ok.status, await ok.json()], tampered: [tampered.status, await tampered.json()], refused }));
`,
    );
    const { stdout } = await run(process.execPath, ["check.mjs", server.url, project.project_id, jwt], { cwd: app });
    const result = JSON.parse(stdout);
    const userId = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()).sub;
    expect(result.verified_by).toBe("local");
    expect(result.user_id).toBe(userId);
    expect(result.ok).toEqual([200, { user_id: userId }]);
    // one TesseraVerifyError class across both packages: a bad JWT is the middleware's 401, not a 500
    expect(result.tampered).toEqual([401, expect.objectContaining({ error_type: "jwt_invalid" })]);
    expect(result.refused).toBe("jwt_invalid");
  });

  it("ships declarations an app's TypeScript resolves (NodeNext, strict, libraries checked)", async () => {
    writeFileSync(
      join(app, "typed.ts"),
      `import { Hono } from "hono";
import { session, type TesseraVariables } from "tessera-hono";
import { createVerifier, type VerifyErrorCode } from "tessera-verify";
import { createClient, type SessionState } from "tessera-browser";
const verifier = createVerifier({ url: "https://auth.example.com", projectId: "project-test-x" });
const web = new Hono<{ Variables: TesseraVariables }>().get("/me", session({ verifier, maxTokenAgeSeconds: 0 }), (c) => c.text(c.get("tessera").session.session_id));
const code: VerifyErrorCode = "jwt_invalid";
const onState = (state: SessionState | null): string | undefined => state?.user.user_id;
createClient({ url: "https://auth.example.com", publicToken: "public-token-test-x" }).onChange(onState);
// @ts-expect-error the declarations are real: a wrong option is an error, not an any
createVerifier({ url: 1 });
export { web, code };
`,
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM"], strict: true, noEmit: true, skipLibCheck: false, types: [] }, files: ["typed.ts"] }),
    );
    const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: app }).catch((error: { stdout: string }) => error);
    expect(tsc.stdout).toBe("");
  });

  it.skipIf(!existsSync(CHROMIUM))("runs in Chromium without a bundler: the module file in the demo page, the global build in a plain script", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"], timeout: 20_000 });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      const tesseraUrl = server.url.replace("127.0.0.1", "localhost"); // a secure context for __Host- cookies
      // the demo page imports /tessera-browser.js with <script type="module">: here the installed package's file
      await page.goto(`${demo.url}/?tessera=${encodeURIComponent(tesseraUrl)}&token=${encodeURIComponent(project.public_token)}`);
      await page.waitForFunction(() => document.getElementById("status")?.textContent !== "Loading…", null, { timeout: 10_000 });
      await page.fill("#email", "packaged@example.com");
      await page.fill("#password", STRONG_PASSWORD);
      await page.click("#login");
      await page.waitForFunction(() => /Signed in as packaged@example\.com/.test(document.getElementById("status")?.textContent ?? ""), null, { timeout: 10_000 });

      await page.addScriptTag({ path: join(app, "node_modules/tessera-browser/tessera-browser.global.js") });
      const email = await page.evaluate(async ([url, publicToken]) => {
        const client = (globalThis as any).TesseraBrowser.createClient({ url, publicToken });
        const state = await client.getSession();
        client.destroy();
        return state?.user.emails[0]?.email ?? null;
      }, [tesseraUrl, project.public_token] as const);
      expect(email).toBe("packaged@example.com");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
