import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type RequestListener, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeSession } from "../../src/domain/sessions.js";
import { withExchangeFastPath } from "../../src/http/exchange-fast-path.js";
import { createProject } from "../../src/domain/projects.js";
import { basicAuth, capturedLogger, createTestServer, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";

const REQUEST_TIMEOUT_MS = 1_000;

interface Sent {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** Keep-alive, as the stytch client's: a response must say when the connection cannot carry another request. */
const agent = new Agent({ keepAlive: true });

/** One request over a real socket; `chunked` sends the body without a Content-Length. */
function send(port: number, options: { path?: string; headers: Record<string, string | string[]>; body?: string; chunked?: boolean }): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? "";
    const headers = { ...options.headers, ...(options.chunked || !options.body ? {} : { "content-length": String(Buffer.byteLength(body)) }) };
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: options.path ?? "/v1/sessions/authenticate", headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null });
      });
    });
    req.on("error", reject);
    if (options.chunked) req.write(body.slice(0, 5));
    req.end(options.chunked ? body.slice(5) : body);
  });
}

const claimsOf = (jwt: string) => {
  const { jti: _jti, iat: _iat, nbf: _nbf, exp: _exp, ...stable } = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));
  return stable;
};

/** What must be equal on both paths: status, body (but for the request id and the JWT's per-mint claims) and headers. */
function comparable(sent: Sent) {
  const { date: _date, "x-request-id": requestId, ...headers } = sent.headers;
  expect(requestId).toMatch(/^request-id-/);
  const body = { ...sent.body };
  expect(body.request_id).toBe(requestId);
  delete body.request_id;
  if (typeof body.session_jwt === "string" && body.session_jwt) body.session_jwt = claimsOf(body.session_jwt);
  return { status: sent.status, headers, body };
}

/**
 * The exchange has two implementations of its HTTP layer: Hono's route (in process, and any request
 * the fast path passes on) and the Node fast path of the listening server. Each case here goes once
 * through each, on two listeners of one app, and the answers must be the same; a counter on the
 * fallback proves which path answered.
 */
describe("the exchange's fast path answers exactly as the Hono route", () => {
  let server: TestServer;
  const { logger, lines } = capturedLogger("info");
  let fastPort: number;
  let honoPort: number;
  let fellBack = 0;
  const listeners: Server[] = [];

  const listenOn = async (listener: RequestListener) => {
    const http = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 100 }, listener);
    listeners.push(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return (http.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    server = await createTestServer({ overrides: { logger }, env: { TRUST_PROXY: "X-Forwarded-For" } });
    const hono = getRequestListener(server.app.fetch);
    fastPort = await listenOn(withExchangeFastPath(server.deps, (request, response) => {
      fellBack++;
      return hono(request, response);
    }));
    honoPort = await listenOn(hono);
  });
  afterAll(async () => {
    agent.destroy();
    for (const http of listeners) {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    await server.close();
  });

  const json = (body: unknown, headers: Record<string, string | string[]> = {}) => ({ headers: { authorization: server.authorization, "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  /** Sends one request both ways and returns the fast path's answer once both agree. */
  async function bothWays(options: Parameters<typeof send>[1], expected: { fast: boolean }): Promise<Sent> {
    const before = fellBack;
    const fast = await send(fastPort, options);
    expect(fellBack - before, expected.fast ? "answered by the fast path" : "passed on to Hono").toBe(expected.fast ? 0 : 1);
    const hono = await send(honoPort, options);
    expect(comparable(fast)).toEqual(comparable(hono));
    return fast;
  }

  it("answers a live session's exchange, by token and by JWT, with the same body and headers", async () => {
    const login = await signUp(server);
    const byToken = await bothWays(json({ session_token: login.session_token }), { fast: true });
    expect(byToken.status).toBe(200);
    expect(byToken.body.session.session_id).toBe(login.session.session_id);
    expect(byToken.headers["cache-control"]).toBe("no-store");
    expect(byToken.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(byToken.headers["content-type"]).toBe("application/json");
    const byJwt = await bothWays(json({ session_jwt: login.session_jwt }), { fast: true });
    expect(byJwt.body.session_token).toBe(login.session_token);
  });

  it("extends a session and sets custom claims the same way, recording the client as TRUST_PROXY says", async () => {
    const one = await signUp(server);
    const two = await signUp(server);
    const client = { "x-forwarded-for": "203.0.113.9, 198.51.100.7", "user-agent": "parity-agent/1" };
    const extend = (token: string) => json({ session_token: token, session_duration_minutes: 90, session_custom_claims: { tenant: "acme" } }, client);
    const fast = await send(fastPort, extend(one.session_token));
    const hono = await send(honoPort, extend(two.session_token));
    expect(fast.status).toBe(200);
    expect(fast.body.session.expires_at).toBe(hono.body.session.expires_at);
    expect(fast.body.session.custom_claims).toEqual({ tenant: "acme" });
    expect(claimsOf(fast.body.session_jwt).tenant).toBe("acme");
    const extendedBy = async (userId: string) => (await server.deps.store.events.list(server.project.project.projectId, { userId, limit: 10 })).find((e) => e.type === "session.extended");
    expect(await extendedBy(one.user_id)).toMatchObject({ ip: "198.51.100.7", userAgent: "parity-agent/1" });
    expect(await extendedBy(two.user_id)).toMatchObject({ ip: "198.51.100.7", userAgent: "parity-agent/1" });
  });

  it("refuses what the route refuses, with the same error", async () => {
    const login = await signUp(server);
    const revoked = await signUp(server);
    await revokeSession(server.deps, server.project.project, { sessionToken: revoked.session_token });
    const cases: [Parameters<typeof send>[1], number, string][] = [
      [json({ session_token: revoked.session_token }), 404, "session_not_found"],
      [json({ session_token: "session-token-test-unknown" }), 404, "session_not_found"],
      [json({ session_token: login.session_token, session_jwt: login.session_jwt }), 400, "too_many_session_arguments"],
      [json({}), 400, "bad_request"],
      [json("{bad"), 400, "bad_request"],
      [json("[]"), 400, "bad_request"],
      [json("null"), 400, "bad_request"],
      [json('{"__proto__":{"x":1},"session_token":"a"}'), 400, "bad_request"],
      [json({ session_token: "a\u0000b" }), 400, "bad_request"],
      [json({ session_token: 42 }), 400, "bad_request"],
      [json({ session_token: login.session_token, session_duration_minutes: -5 }), 400, "invalid_session_duration"],
      [json({ session_token: login.session_token, session_custom_claims: "nope" }), 400, "invalid_custom_claims"],
      [json({ session_token: login.session_token, authorization_check: { resource_id: "documents", action: "delete" } }), 403, "consumer_session_authorization_error"],
      [json({ session_token: login.session_token }, { authorization: basicAuth(server.project.project.projectId, "secret-test-wrong") }), 401, "unauthorized_credentials"],
      [json({ session_token: login.session_token }, { authorization: "Bearer x" }), 401, "unauthorized_credentials"],
      [json({ session_token: login.session_token }, { "tessera-end-user-ip": "not-an-ip" }), 400, "bad_request"],
    ];
    for (const [options, status, type] of cases) {
      const answer = await bothWays(options, { fast: true });
      expect(`${options.body} -> ${answer.status} ${answer.body.error_type}`).toBe(`${options.body} -> ${status} ${type}`);
    }
  });

  it("closes the connection after a refusal that left the body unread, as the Hono stack does", async () => {
    const refused = await bothWays(json({ session_token: "x" }, { authorization: "Bearer x" }), { fast: true });
    expect(refused.headers.connection).toBe("close");
    const answered = await bothWays(json({ session_token: "x" }), { fast: true });
    expect(answered.headers.connection).toBe("keep-alive");
  });

  it("answers a rate-limited exchange with 429 and Retry-After", async () => {
    const limited = await createProject(server.deps, { name: "Limited", settings: { rateLimits: { exchangesPerSessionPerMinute: 2 } } });
    const authorization = basicAuth(limited.project.projectId, limited.secret);
    const login = await server.call("POST", "/v1/passwords", { email: "limited@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 }, { authorization });
    const answers: Sent[] = [];
    for (let i = 0; i < 3; i++) answers.push(await send(fastPort, json({ session_token: login.body.session_token }, { authorization })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2]!.body.error_type).toBe("too_many_requests");
    expect(Number(answers[2]!.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("passes anything unusual on to Hono, which answers it the usual way", async () => {
    const login = await signUp(server);
    const body = JSON.stringify({ session_token: login.session_token });
    const passedOn: [Parameters<typeof send>[1], number][] = [
      [{ ...json(body), path: "/v1/sessions/authenticate?x=1" }, 200],
      [json(body, { "content-type": "text/plain" }), 400],
      [{ ...json(body), chunked: true }, 200],
      [json(body, { authorization: [server.authorization, server.authorization] }), 401],
      [json(body, { "content-type": ["application/json", "text/plain"] }), 400],
      [json(JSON.stringify({ session_token: login.session_token, pad: "x".repeat(70_000) })), 413],
      [{ headers: { authorization: server.authorization, "content-type": "application/json" } }, 400],
    ];
    for (const [options, status] of passedOn) expect((await bothWays(options, { fast: false })).status).toBe(status);
  });

  it("survives a body that stalls (Node's 408) and one the client abandons, and goes on answering", async () => {
    const login = await signUp(server);
    const partial = (abandon: boolean) =>
      new Promise<string>((resolve) => {
        const socket = connect(fastPort, "127.0.0.1", () => {
          socket.write(`POST /v1/sessions/authenticate HTTP/1.1\r\nHost: x\r\nAuthorization: ${server.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"session_`);
          if (abandon) setTimeout(() => socket.destroy(), 50);
        });
        let text = "";
        socket.on("data", (chunk) => (text += chunk.toString("utf8")));
        socket.on("close", () => resolve(text));
        socket.on("error", () => {});
      });
    const before = fellBack;
    const [stalled, abandoned] = await Promise.all([partial(false), partial(true)]);
    expect(fellBack).toBe(before);
    expect(stalled).toMatch(/^HTTP\/1\.1 408/);
    expect(abandoned).toBe("");
    expect((await send(fastPort, json({ session_token: login.session_token }))).status).toBe(200);
  });

  it("logs and counts its requests under the route, as the Hono frame does", async () => {
    const login = await signUp(server);
    lines.length = 0;
    const answer = await send(fastPort, json({ session_token: login.session_token }));
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.request_id === answer.headers["x-request-id"]);
    expect(line).toMatchObject({ msg: "request", method: "POST", path: "/v1/sessions/authenticate", status: 200 });
    expect(JSON.stringify(lines)).not.toContain(login.session_token);
    const metrics = await server.deps.metrics.scrape();
    expect(metrics).toMatch(/tessera_http_requests_total\{method="POST",route="\/v1\/sessions\/authenticate",status="200"\} [1-9]/);
    expect(metrics).toMatch(/tessera_exchanges_total\{surface="backend",outcome="revoked"\} [1-9]/);
  });

  it("says Connection: close while the server drains (last: the drain cannot be undone)", async () => {
    const login = await signUp(server);
    server.deps.drain.begin();
    const answer = await bothWays(json({ session_token: login.session_token }), { fast: true });
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe("close");
  });
});
