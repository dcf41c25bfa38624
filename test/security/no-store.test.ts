import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const ORIGIN = "http://app.example";

/**
 * Every backend and browser API response may carry credentials (tokens, JWTs) or personal data
 * (emails, names, sessions): no browser, proxy or CDN cache may keep one. The JWKS is public and
 * keeps its own caching, which key rotation relies on.
 */
describe("security: Cache-Control: no-store on every API response but the JWKS", () => {
  let server: TestServer;
  let user: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    server = await createTestServer({ settings: { allowedOrigins: [ORIGIN] } });
    user = await signUp(server, "cached@example.com");
  });
  afterAll(() => server.close());

  const browser = (method: string, path: string, body?: unknown) =>
    server.call(method, `/sdk/v1/${server.project.publicToken}${path}`, body, { authorization: "", origin: ORIGIN, ...(method === "GET" ? {} : { "x-tessera-request": "1" }) });

  it("backend routes, successes and refusals alike", async () => {
    const responses = {
      "POST /v1/passwords": await server.call("POST", "/v1/passwords", { email: "new@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 }),
      "POST /v1/passwords/authenticate": await server.call("POST", "/v1/passwords/authenticate", { email: "cached@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 }),
      "POST /v1/passwords/authenticate (401)": await server.call("POST", "/v1/passwords/authenticate", { email: "cached@example.com", password: "Wrong-password-1" }),
      "POST /v1/passwords/strength_check": await server.call("POST", "/v1/passwords/strength_check", { password: STRONG_PASSWORD }),
      "POST /v1/sessions/authenticate": await server.call("POST", "/v1/sessions/authenticate", { session_token: user.session_token }),
      "GET /v1/sessions": await server.call("GET", `/v1/sessions?user_id=${user.user_id}`),
      "GET /v1/users/:id": await server.call("GET", `/v1/users/${user.user_id}`),
      "POST /v1/users/search": await server.call("POST", "/v1/users/search", {}),
      "GET /v1/users/:id (401)": await server.call("GET", `/v1/users/${user.user_id}`, undefined, { authorization: "Basic eDp5" }),
      "GET /v1/nothing (404)": await server.call("GET", "/v1/nothing"),
    };
    for (const [route, response] of Object.entries(responses)) expect(`${route}: ${response.headers.get("cache-control")}`).toBe(`${route}: no-store`);
  });

  it("browser routes", async () => {
    const responses = {
      "POST /signup": await browser("POST", "/signup", { email: "web@example.com", password: STRONG_PASSWORD }),
      "POST /login": await browser("POST", "/login", { email: "web@example.com", password: STRONG_PASSWORD }),
      "POST /login (401)": await browser("POST", "/login", { email: "web@example.com", password: "Wrong-password-1" }),
      "GET /sessions (401)": await browser("GET", "/sessions"),
    };
    for (const [route, response] of Object.entries(responses)) expect(`${route}: ${response.headers.get("cache-control")}`).toBe(`${route}: no-store`);
  });

  it("the JWKS keeps its own caching", async () => {
    const jwks = await server.call("GET", `/v1/sessions/jwks/${server.project.project.projectId}`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toMatch(/max-age=\d+/);
  });
});
