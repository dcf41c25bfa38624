import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListeningTestServer, type TestServer } from "../helpers.js";

const CHROMIUM = "/usr/bin/chromium";

/**
 * /docs in headless Chromium with every host but the server's blocked, as on a machine without
 * internet access: the renderer must draw every operation from files this server serves.
 */
describe.skipIf(!existsSync(CHROMIUM))("e2e: /docs renders the OpenAPI spec offline", () => {
  let server: TestServer & { baseUrl: string };
  let browser: Browser;

  beforeAll(async () => {
    server = await createListeningTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      timeout: 20_000,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("draws every operation with its examples, from this origin only, within its Content-Security-Policy", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    const origin = new URL(server.baseUrl).origin;
    const elsewhere: string[] = [];
    const requested: string[] = [];
    await context.route("**", (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      elsewhere.push(url);
      return route.abort("blockedbyclient");
    });
    // Violations are reported as events, not errors: collect them from the page itself.
    await context.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("request", (request) => requested.push(request.url()));

    const response = await page.goto(`${server.baseUrl}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    const spec = await (await server.app.request("/openapi.json")).json();
    const operations = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    await page.locator(".opblock-summary-path", { hasText: "/v1/sessions/authenticate" }).first().waitFor();
    const drawn = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((b) => `${b.querySelector(".opblock-summary-method")?.textContent?.toLowerCase()} ${b.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`),
    );
    expect(drawn.sort()).toEqual(operations.sort());

    // Open the exchange: its request example and its 200 example are drawn.
    await page.locator(".opblock-summary-path[data-path='/v1/sessions/authenticate']").click();
    const exchange = page.locator(".opblock.is-open");
    await exchange.locator(".body-param__example, .example").first().waitFor();
    const text = await exchange.innerText();
    const requestExample = spec.paths["/v1/sessions/authenticate"].post.requestBody.content["application/json"].example;
    expect(text).toContain(requestExample.session_token);
    expect(text).toContain("session_jwt");

    expect(elsewhere).toEqual([]);
    expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("serves the renderer's files with their types, long-lived caching and compression", async () => {
    const page = await (await server.app.request("/docs")).text();
    const assets = [...page.matchAll(/(?:href|src)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(3);
    for (const path of assets) {
      const response = await server.app.request(path, { headers: { "accept-encoding": "gzip" } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type")).toBe(path.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(response.headers.get("content-encoding")).toBe("gzip");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
    // Only those files, and only at their current version.
    const stale = assets[0]!.replace(/\/assets\/[^/]+\//, "/assets/0000000000000000/");
    for (const path of [stale, "/docs/assets/x/package.json", "/docs/assets/x/..%2Fpackage.json", "/docs/assets/x/swagger-ui.js"]) {
      expect((await server.app.request(path)).status, path).toBe(404);
    }
  });
});
