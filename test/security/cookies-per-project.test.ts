import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { session } from "../../src/sdk/hono.js";
import { createVerifier, type Verifier } from "../../src/sdk/verify.js";
import { createListeningTestServer, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const ORIGIN = "http://app.example";

/** The cookies one browser holds for the Tessera host: name → value, as Set-Cookie headers leave them. */
class CookieJar {
  readonly cookies = new Map<string, string>();
  take(response: Response): string[] {
    const names: string[] = [];
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const name = pair!.slice(0, pair!.indexOf("="));
      names.push(name);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(name.length + 1));
    }
    return names;
  }
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/**
 * Two projects on one Tessera host. With one cookie name for all, logging into B overwrote A's
 * session, and a GET to B's browser API with A's cookie answered 401 and cleared it: any page could
 * log a user out with a cross-site navigation.
 */
describe("security: session cookies are per project and never cleared by a GET", () => {
  let server: TestServer & { baseUrl: string };
  let b: CreatedProject;
  const verifiers: Verifier[] = [];
  beforeAll(async () => {
    server = await createListeningTestServer({ settings: { allowedOrigins: [ORIGIN] } });
    b = await createProject(server.deps, { name: "B", settings: { allowedOrigins: [ORIGIN] } });
  });
  afterAll(async () => {
    verifiers.forEach((v) => v.close());
    await server.close();
  });

  const browser = (jar: CookieJar, publicToken: string, method: string, path: string, body?: unknown) =>
    server.app.request(`/sdk/v1/${publicToken}${path}`, {
      method,
      headers: { origin: ORIGIN, cookie: jar.header, ...(method === "GET" ? {} : { "x-tessera-request": "1" }), ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const signUpAndLogIn = async (jar: CookieJar, publicToken: string, email: string) => {
    expect((await browser(jar, publicToken, "POST", "/signup", { email, password: STRONG_PASSWORD })).status).toBe(200);
    const login = await browser(jar, publicToken, "POST", "/login", { email, password: STRONG_PASSWORD });
    expect(login.status).toBe(200);
    return jar.take(login);
  };

  it("logging into B leaves A's session alone; a GET to B with A's cookies clears nothing", async () => {
    const jar = new CookieJar();
    const aNames = await signUpAndLogIn(jar, server.project.publicToken, "a@example.com");
    const aCookies = new Map(jar.cookies);
    const bNames = await signUpAndLogIn(jar, b.publicToken, "b@example.com");
    expect(aNames.filter((name) => bNames.includes(name))).toEqual([]);
    for (const [name, value] of aCookies) expect(jar.cookies.get(name)).toBe(value);
    expect(aNames.some((name) => name.startsWith("__Host-"))).toBe(true); // the session cookie keeps its prefix

    // a GET to another project's browser route, carrying only A's cookies: refused, but nothing cleared
    const onlyA = new CookieJar();
    aCookies.forEach((value, name) => onlyA.cookies.set(name, value));
    const crossed = await browser(onlyA, b.publicToken, "GET", "/sessions");
    expect(crossed.status).toBe(401);
    expect(crossed.headers.getSetCookie()).toEqual([]);

    const refreshedA = await browser(jar, server.project.publicToken, "POST", "/sessions/authenticate");
    expect(refreshedA.status).toBe(200);
    expect((await refreshedA.json()).user.emails[0].email).toBe("a@example.com");
    expect((await browser(jar, b.publicToken, "POST", "/sessions/authenticate")).status).toBe(200);
  });

  it("a GET with a dead session answers 401 without clearing cookies; a POST still clears them", async () => {
    const jar = new CookieJar();
    await signUpAndLogIn(jar, server.project.publicToken, "dead@example.com");
    const copy = new CookieJar();
    jar.cookies.forEach((value, name) => copy.cookies.set(name, value));
    expect((await browser(copy, server.project.publicToken, "POST", "/logout")).status).toBe(200); // revokes the session
    const listed = await browser(jar, server.project.publicToken, "GET", "/sessions");
    expect(listed.status).toBe(401);
    expect(listed.headers.getSetCookie()).toEqual([]);
    const refreshed = await browser(jar, server.project.publicToken, "POST", "/sessions/authenticate");
    expect(refreshed.status).toBe(401);
    expect(refreshed.headers.getSetCookie().length).toBeGreaterThan(0);
  });

  it("tessera/hono finds its own project's JWT cookie among several projects' by default", async () => {
    const jar = new CookieJar();
    await signUpAndLogIn(jar, server.project.publicToken, "hono-a@example.com");
    await signUpAndLogIn(jar, b.publicToken, "hono-b@example.com");
    const verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, now: () => server.clock.now() });
    verifiers.push(verifier);
    const app = new Hono().get("/me", session({ verifier }), (c) => c.json({ user_id: c.get("tessera").user_id }));
    const response = await app.request("/me", { headers: { cookie: jar.header } });
    expect(response.status).toBe(200);
  });
});
