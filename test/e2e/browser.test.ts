import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoServer, type DemoServer } from "../../examples/browser-demo/serve.js";
import type { SessionState, TesseraClient } from "../../src/browser/index.js";
import { createDeps, type Deps } from "../../src/deps.js";
import { systemClock } from "../../src/domain/clock.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createApp, type App } from "../../src/http/app.js";
import { basicAuth, createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";

/**
 * tessera/browser in headless Chromium, on real time: Tessera on http://localhost:A, the demo page on
 * http://localhost:B (allowed; same site, so the SameSite=Lax cookies travel) and on http://localhost:C
 * (same site, NOT allowed: only the Origin check stands between it and the session).
 */

const CHROMIUM = "/usr/bin/chromium";
const JWT_LIFETIME_SECONDS = 4;
/** The mean refresh interval: the SDK refreshes at 70–85 % of the JWT lifetime, less 1 s for `iat` being whole seconds. */
const PERIOD_MS = JWT_LIFETIME_SECONDS * 1000 * 0.775 - 1000;
const EMAIL = "e2e@example.com";
const ROOT = join(import.meta.dirname, "../..");

/** Every browser-API request the server answered. */
interface Seen {
  at: number;
  method: string;
  path: string;
  origin: string | null;
  status: number;
  body: string;
  setsCookies: boolean;
  /** The session token, when this response set the session cookie. */
  sessionToken: string | null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!existsSync(CHROMIUM))("e2e: tessera/browser in Chromium against a listening Tessera", () => {
  let environment: TestEnvironment;
  let deps: Deps;
  let app: App;
  let server: Server;
  let project: CreatedProject;
  let tesseraUrl: string;
  let demo: DemoServer;
  let browser: Browser;
  let context: BrowserContext;
  let tab1: Page;
  let tab2: Page;
  const seen: Seen[] = [];
  const pageErrors: string[] = [];
  const refreshes = (since: number, status = 200) => seen.filter((s) => s.at >= since && s.method === "POST" && s.path === "/sessions/authenticate" && s.origin === demo.url && s.status === status);

  beforeAll(async () => {
    const port = await freePort();
    tesseraUrl = `http://localhost:${port}`;
    environment = await createTestEnvironment({ PORT: String(port), PUBLIC_URL: tesseraUrl });
    deps = await createDeps(environment.config, { clock: systemClock, logger: pino({ level: "silent" }), inMemoryDatabase: true });
    app = createApp(deps);
    demo = await startDemoServer({ port: 0, host: "127.0.0.1" });
    project = await createProject(deps, { name: "e2e", settings: { allowedOrigins: [demo.url], jwtLifetimeSeconds: JWT_LIFETIME_SECONDS } });
    server = await new Promise<Server>((resolve) => {
      const listening = serve(
        {
          fetch: async (request, env) => {
            const response = await app.fetch(request, env);
            const url = new URL(request.url);
            if (url.pathname.startsWith("/sdk/")) {
              const cookies = response.headers.getSetCookie();
              seen.push({
                at: Date.now(),
                method: request.method,
                path: url.pathname.replace(/^\/sdk\/v1\/[^/]+/, ""),
                origin: request.headers.get("origin"),
                status: response.status,
                body: await response.clone().text(),
                setsCookies: cookies.length > 0,
                sessionToken: cookies.map((c) => /^__Host-tessera_session_[^=]+=([^;]+)/.exec(c)?.[1]).find(Boolean) ?? null,
              });
            }
            return response;
          },
          port,
          hostname: "127.0.0.1",
        },
        () => resolve(listening as Server),
      );
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 20_000,
    });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await deps?.close();
    await environment?.cleanup();
  });

  const openDemo = async (origin: string, inContext = context) => {
    const page = await inContext.newPage();
    page.on("pageerror", (error) => pageErrors.push(`${origin}: ${error.message}`));
    await page.goto(`${origin}/?tessera=${encodeURIComponent(tesseraUrl)}&token=${encodeURIComponent(project.publicToken)}`);
    await page.waitForFunction(() => document.getElementById("status")?.textContent !== "Loading…", null, { timeout: 10_000 });
    return page;
  };
  const waitForStatus = (page: Page, pattern: RegExp, timeout = 5000) =>
    page.waitForFunction((source) => new RegExp(source).test(document.getElementById("status")?.textContent ?? ""), pattern.source, { timeout });
  type DemoWindow = { demo: { client: TesseraClient; state(): SessionState | null; lines(): string[]; askedHere(): number } };
  const stateOf = (page: Page) =>
    page.evaluate(() => {
      const state = (window as unknown as DemoWindow).demo.state();
      return state && { sessionId: state.session.session_id, jwtIssuedAt: state.jwtIssuedAt.toISOString(), jwt: state.jwt };
    });
  const logIn = async (page: Page, button: "#login" | "#signup") => {
    await page.fill("#email", EMAIL);
    await page.fill("#password", STRONG_PASSWORD);
    await page.click(button);
    await waitForStatus(page, /Signed in as e2e@example\.com/);
  };

  it("signs up and logs in; the session token stays in an HttpOnly cookie, out of document.cookie and every body", async () => {
    tab1 = await openDemo(demo.url);
    expect(await tab1.textContent("#status")).toBe("Signed out");
    await logIn(tab1, "#signup");

    const cookie = (await context.cookies(tesseraUrl)).find((c) => c.name === `__Host-tessera_session_${project.project.projectId}`);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax", path: "/" });
    const token = cookie!.value;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await tab1.evaluate(() => document.cookie)).not.toContain(token);
    expect(seen.filter((s) => s.body.includes(token))).toEqual([]);
    expect(seen.map((s) => `${s.method} ${s.path} ${s.status}`)).toEqual(expect.arrayContaining(["POST /signup 200", "POST /login 200"]));
    // the project keeps the JWT HttpOnly: scripts cannot have it
    expect(await tab1.evaluate(() => (window as unknown as DemoWindow).demo.client.getJwt().then(() => "returned", (e: { code: string }) => e.code))).toBe("jwt_not_exposed");
  });

  it("two tabs: about one refresh per period for the whole browser, and every tab holds the newest JWT", async () => {
    tab2 = await openDemo(demo.url);
    await waitForStatus(tab2, /Signed in as/); // from the shared record (or one refresh, if one was due)
    expect((await stateOf(tab2))!.sessionId).toBe((await stateOf(tab1))!.sessionId);

    const start = Date.now();
    await sleep(3 * PERIOD_MS);
    const inWindow = refreshes(start).length;
    // one tab refreshing per period: ~3; each tab on its own would be ~6
    expect(inWindow).toBeGreaterThanOrEqual(2);
    expect(inWindow).toBeLessThanOrEqual(4);

    // both tabs hold the JWT timing of the last refresh (one may be mid-refresh: poll briefly)
    const deadline = Date.now() + 2000;
    let states = await Promise.all([stateOf(tab1), stateOf(tab2)]);
    while (states[0]?.jwtIssuedAt !== states[1]?.jwtIssuedAt && Date.now() < deadline) {
      await sleep(100);
      states = await Promise.all([stateOf(tab1), stateOf(tab2)]);
    }
    const last = JSON.parse(refreshes(0).at(-1)!.body) as { jwt_issued_at: string };
    expect(states.map((s) => s?.jwtIssuedAt)).toEqual([last.jwt_issued_at, last.jwt_issued_at]);
    for (const tab of [tab1, tab2]) {
      const lines = await tab.evaluate(() => (window as unknown as DemoWindow).demo.lines());
      expect(lines.filter((l) => l.includes("JWT refreshed")).length).toBeGreaterThanOrEqual(2);
    }

    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await tab1.screenshot({ path: join(ROOT, "test-results/demo.png"), fullPage: true });
  });

  it("a page on an origin that is not allowed cannot log in, refresh or log out; the session survives", async () => {
    const evil = await startDemoServer({ port: 0, host: "127.0.0.1" });
    try {
      const evilPage = await openDemo(evil.url);
      const before = (await stateOf(tab1))!;
      const attempts = await evilPage.evaluate(
        async ({ base, email, password }) => {
          const outcome = (p: Promise<unknown>) => p.then(() => "succeeded", (e: { code?: string; name: string }) => e.code ?? e.name);
          const client = (window as unknown as DemoWindow).demo.client;
          const post = (path: string) => fetch(`${base}${path}`, { method: "POST", credentials: "include", headers: { "X-Tessera-Request": "1" } });
          return {
            logIn: await outcome(client.logIn(email, password)),
            refresh: await outcome(post("/sessions/authenticate")),
            logOut: await outcome(post("/logout")),
            // a simple (no-cors) request skips the preflight and reaches the server, cookies and all;
            // the page gets an opaque answer or, where Chromium blocks the JSON (ORB), a network error
            simpleLogOut: await fetch(`${base}/logout`, { method: "POST", credentials: "include", mode: "no-cors" }).then((r) => r.type, (e: Error) => e.name),
          };
        },
        { base: `${tesseraUrl}/sdk/v1/${project.publicToken}`, email: EMAIL, password: STRONG_PASSWORD },
      );
      expect(attempts).toMatchObject({ logIn: "network_error", refresh: "TypeError", logOut: "TypeError" });
      expect(["opaque", "TypeError"]).toContain(attempts.simpleLogOut);
      await evilPage.close();

      const fromEvil = seen.filter((s) => s.origin === evil.url);
      expect(fromEvil.map((s) => `${s.method} ${s.path}`)).toEqual(expect.arrayContaining(["OPTIONS /login", "OPTIONS /sessions/authenticate", "OPTIONS /logout", "POST /logout"]));
      for (const s of fromEvil) {
        expect(s.status).toBe(403);
        expect(JSON.parse(s.body).error_type).toBe("origin_not_allowed");
        expect(s.setsCookies).toBe(false);
      }
      // the good origin's session is alive: a forced refresh answers for the same session
      const refreshed = await tab1.evaluate(() => (window as unknown as DemoWindow).demo.client.ensureFresh({ maxTokenAgeSeconds: 0 }).then((s) => s.session.session_id));
      expect(refreshed).toBe(before.sessionId);
      expect(await tab1.textContent("#status")).toMatch(/Signed in/);
    } finally {
      await evil.close();
    }
  });

  it("network errors do not end the session: refreshes back off and resume when the network is back", async () => {
    const before = (await stateOf(tab1))!;
    const tried = async () => (await Promise.all([tab1, tab2].map((tab) => tab.evaluate(() => (window as unknown as DemoWindow).demo.askedHere())))).reduce((a, b) => a + b);
    const triedBefore = await tried();
    await context.setOffline(true);
    const offlineAt = Date.now();
    await sleep(JWT_LIFETIME_SECONDS * 1000); // refreshes fall due and fail
    for (const tab of [tab1, tab2]) expect(await tab.textContent("#status")).toMatch(/Signed in/);
    expect(refreshes(offlineAt + 200)).toEqual([]); // nothing reached the server
    expect(await tried()).toBeGreaterThan(triedBefore); // but the SDK tried (and retries with backoff)
    await context.setOffline(false);
    const onlineAt = Date.now();
    await waitForStatus(tab1, /Signed in/); // still
    const deadline = onlineAt + 8000; // the backoff has grown to at most 2–4 s by now
    while (refreshes(onlineAt).length === 0 && Date.now() < deadline) await sleep(100);
    expect(refreshes(onlineAt).length).toBeGreaterThanOrEqual(1);
    await sleep(300);
    const after = (await stateOf(tab1))!;
    expect(after.sessionId).toBe(before.sessionId);
    expect(Date.parse(after.jwtIssuedAt)).toBeGreaterThan(Date.parse(before.jwtIssuedAt));
  });

  it("logging out in one tab signs the other out", async () => {
    const start = Date.now();
    await tab1.click("#logout");
    await waitForStatus(tab1, /^Signed out$/);
    await waitForStatus(tab2, /^Signed out$/, 1500);
    expect(await tab2.evaluate(() => (window as unknown as DemoWindow).demo.lines().some((l) => l.endsWith("signed out")))).toBe(true);
    expect(seen.filter((s) => s.at >= start && s.method === "POST" && s.path === "/logout").map((s) => s.status)).toEqual([200]);
    expect(refreshes(start, 401)).toEqual([]); // told by the other tab, not by a refused refresh of its own
    expect(await stateOf(tab2)).toBeNull();
  });

  it("a revocation through the backend API signs the open tabs out at their next refresh", async () => {
    await logIn(tab2, "#login");
    await waitForStatus(tab1, /Signed in as/, 3000); // the log-in reached the other tab too
    const { sessionId } = (await stateOf(tab2))!;
    expect((await stateOf(tab1))!.sessionId).toBe(sessionId);

    const revokedAt = Date.now();
    const revoke = await app.request("/v1/sessions/revoke", {
      method: "POST",
      headers: { authorization: basicAuth(project.project.projectId, project.secret), "content-type": "application/json" },
      body: JSON.stringify({ session_id: sessionId }),
    });
    expect(revoke.status).toBe(200);

    const bound = JWT_LIFETIME_SECONDS * 1000 + 2000; // the next refresh is due within one JWT lifetime
    await waitForStatus(tab1, /^Signed out$/, bound);
    await waitForStatus(tab2, /^Signed out$/, bound);
    expect(Date.now() - revokedAt).toBeLessThan(bound);
    // one tab found out (one 401), the other learned it from that tab
    expect(refreshes(revokedAt, 401)).toHaveLength(1);
    expect(JSON.parse(refreshes(revokedAt, 401)[0]!.body).error_type).toBe("no_session");
  });

  it("without BroadcastChannel and Web Locks (storage events, localStorage lease): one refresh per period, log-out reaches every tab", async () => {
    const bare = await browser.newContext();
    try {
      await bare.addInitScript(() => {
        Reflect.deleteProperty(window, "BroadcastChannel");
        Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
      });
      const [first, second] = [await openDemo(demo.url, bare), await openDemo(demo.url, bare)];
      expect(await first.evaluate(() => [typeof BroadcastChannel, typeof navigator.locks])).toEqual(["undefined", "undefined"]);
      await logIn(first, "#login");
      await waitForStatus(second, /Signed in as/, 3000); // a storage event carried the log-in

      const start = Date.now();
      await sleep(3 * PERIOD_MS);
      const inWindow = refreshes(start).length; // the first context's tabs are signed out: these are all this context's
      expect(inWindow).toBeGreaterThanOrEqual(2);
      expect(inWindow).toBeLessThanOrEqual(4);

      const loggedOut = Date.now();
      await second.click("#logout");
      await waitForStatus(first, /^Signed out$/, 1500);
      expect(refreshes(loggedOut, 401)).toEqual([]);
    } finally {
      await bare.close();
    }
  });

  it("never sent a session token in a body, and the pages threw nothing", () => {
    const tokens = seen.map((s) => s.sessionToken).filter((t): t is string => t !== null);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(seen.filter((s) => tokens.some((t) => s.body.includes(t)))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
