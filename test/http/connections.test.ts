import { Agent, request, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject } from "../../src/domain/projects.js";
import { basicAuth, createTestEnvironment, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { openRawStream } from "../raw-sse.js";
import { assertBuilt, startServer, type TesseraProcess } from "../server-process.js";

const REQUEST_TIMEOUT_MS = 3_000;
const HEADERS_TIMEOUT_MS = 1_000;
const WRONG_CREDENTIALS = basicAuth("project-test-00000000-0000-4000-8000-000000000000", "secret-test-wrong");

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
}

/**
 * One request through `agent` (a keep-alive agent, so the next request reuses the connection when the
 * server allows it). `body: "endless"` trickles a chunked body that never ends.
 */
function send(agent: Agent, url: string, options: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer | "endless" }): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const target = new URL(options.path, url);
    let answered = false;
    let trickle: NodeJS.Timeout | undefined;
    const req = request(target, { method: options.method, agent, headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        answered = true;
        clearInterval(trickle);
        resolve({ status: res.statusCode!, headers: res.headers, body, ms: performance.now() - started });
      });
      res.on("error", reject);
    });
    // Writing into a socket the server has closed after answering is expected; only an unanswered request fails.
    req.on("error", (error) => {
      clearInterval(trickle);
      if (!answered) reject(error);
    });
    if (options.body === "endless") {
      req.write("{");
      trickle = setInterval(() => req.write(`"${"x".repeat(512)}":1,`), 50);
    } else req.end(options.body);
  });
}

describe("the server's connections: early refusals, keep-alive, timeouts, drain", () => {
  let environment: TestEnvironment;
  let server: { process: TesseraProcess; url: string };
  let authorization: string;

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment({ REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), SHUTDOWN_TIMEOUT_MS: "30000", LOG_LEVEL: "info" });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    const { project, secret } = await createProject(deps, { name: "connections" });
    await deps.close();
    authorization = basicAuth(project.projectId, secret);
    server = await startServer(environment.env);
  }, 90_000);

  afterAll(async () => {
    await server?.process.kill();
    await environment?.cleanup();
  });

  const json = (extra: Record<string, string> = {}) => ({ authorization, "content-type": "application/json", ...extra });
  const healthy = async (agent: Agent) => {
    const answer = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: json(), body: JSON.stringify({ email: `ok-${Math.random()}@example.com` }) });
    expect(answer.status, answer.body).toBe(200);
  };

  it("answers an oversized body with 413 and closes that connection, so the agent's next request works", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const big = Buffer.alloc(200_000, 0x20);
    const declared = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: json(), body: big });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error_type).toBe("payload_too_large");
    expect(declared.headers.connection).toBe("close");
    await healthy(agent);

    const chunked = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: json({ "transfer-encoding": "chunked" }), body: big });
    expect(chunked.status).toBe(413);
    expect(chunked.headers.connection).toBe("close");
    await healthy(agent);
    agent.destroy();
  });

  it("refuses wrong credentials before reading the body: 401 at once even for a body that never ends", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const endless = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: { authorization: WRONG_CREDENTIALS, "content-type": "application/json", "transfer-encoding": "chunked" }, body: "endless" });
    expect(endless.status).toBe(401);
    expect(JSON.parse(endless.body).error_type).toBe("unauthorized_credentials");
    expect(endless.ms).toBeLessThan(REQUEST_TIMEOUT_MS / 2); // not the request timeout: nothing waited for the body
    expect(endless.headers.connection).toBe("close");
    await healthy(agent);

    // an oversized body from a stranger: the stranger learns nothing about limits, only 401
    const big = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: { authorization: WRONG_CREDENTIALS, "content-type": "application/json" }, body: Buffer.alloc(200_000, 0x20) });
    expect(big.status).toBe(401);
    await healthy(agent);
    agent.destroy();
  });

  it("refuses a wrong content type without reading the body, and the agent's next request works", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const refused = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: { authorization, "content-type": "text/plain" }, body: Buffer.alloc(60_000, 0x61) });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error_type).toBe("invalid_content_type");
    await healthy(agent);
    agent.destroy();
  });

  it("keeps the connection after a request whose body was read", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const malformed = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: json(), body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.connection).toBe("keep-alive");
    await healthy(agent);
    agent.destroy();
  });

  it("deletes a user with a DELETE that has no body (fetch, curl -X DELETE)", async () => {
    const create = async () => {
      const response = await fetch(`${server.url}/v1/users`, { method: "POST", headers: json(), body: JSON.stringify({ email: `gone-${Math.random()}@example.com` }) });
      return ((await response.json()) as { user_id: string }).user_id;
    };
    const first = await create();
    const viaFetch = await fetch(`${server.url}/v1/users/${first}`, { method: "DELETE", headers: { authorization } });
    expect(viaFetch.status, await viaFetch.clone().text()).toBe(200);
    expect(await viaFetch.json()).toMatchObject({ status_code: 200, user_id: first });

    // what curl -X DELETE sends: no Content-Length, no Transfer-Encoding, no Content-Type
    const second = await create();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const bare = await send(agent, server.url, { method: "DELETE", path: `/v1/users/${second}`, headers: { authorization } });
    expect(bare.status, bare.body).toBe(200);
    const withZeroLength = await send(agent, server.url, { method: "DELETE", path: `/v1/users/${second}`, headers: { authorization, "content-length": "0" } });
    expect(JSON.parse(withZeroLength.body).error_type).toBe("user_not_found"); // got past the body check
    agent.destroy();
  });

  it("answers 408 to a client that never finishes its headers, after HEADERS_TIMEOUT_MS", async () => {
    const started = performance.now();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(server.url).port), "127.0.0.1", () => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
      let data = "";
      socket.setEncoding("utf8").on("data", (chunk: string) => (data += chunk));
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    const ms = performance.now() - started;
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2_500); // Node checks once a second
  });

  it("answers 408 to an authenticated body that never ends, after REQUEST_TIMEOUT_MS", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const slow = await send(agent, server.url, { method: "POST", path: "/v1/users", headers: json({ "transfer-encoding": "chunked" }), body: "endless" });
    expect(slow.status).toBe(408);
    expect(slow.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(slow.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2_500);
    await healthy(agent);
    agent.destroy();
  });

  // Last: it stops the server.
  it("on SIGTERM ends an open revocation stream with a retry hint, finishes an in-flight login, and exits at once", async () => {
    const stream = await openRawStream(server.url, authorization);
    await stream.until(/event: ready\n/);

    const email = `drain-${Math.random()}@example.com`;
    expect((await fetch(`${server.url}/v1/passwords`, { method: "POST", headers: json(), body: JSON.stringify({ email, password: STRONG_PASSWORD }) })).status).toBe(200);
    const login = fetch(`${server.url}/v1/passwords/authenticate`, { method: "POST", headers: json(), body: JSON.stringify({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 }) });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the login is in flight (argon2 takes longer)

    const signalled = performance.now();
    server.process.child.kill("SIGTERM");
    const answered = await login;
    expect(answered.status).toBe(200);
    expect(answered.headers.get("connection")).toBe("close");
    expect((await answered.json()).session_token).toEqual(expect.any(String));
    expect(await stream.ended(3_000)).toBe("clean"); // ended, not cut
    expect(stream.text).toMatch(/\n\nretry: \d+\n\n$/);
    const exit = await server.process.waitForExit(10_000);
    const drainMs = exit.at - signalled;
    console.log(`drain with an open revocation stream and an in-flight login: exited ${drainMs.toFixed(0)} ms after SIGTERM (SHUTDOWN_TIMEOUT_MS 30000)`);
    expect(exit.timedOut).toBe(false);
    expect(exit.code).toBe(0);
    expect(drainMs).toBeLessThan(3_000);
    expect(exit.stdout).toMatch(/"msg":"stopped"/);
  }, 30_000);
});
