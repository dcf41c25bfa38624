import { Agent } from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../../src/deps.js";
import { createProject } from "../../src/domain/projects.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "../helpers.js";
import { send, type Outcome } from "../http-outcomes.js";
import { openRawStream } from "../raw-sse.js";
import { assertBuilt, startServer, type TesseraProcess } from "../server-process.js";

/**
 * SIGTERM in the middle of a burst of keep-alive traffic, on real Postgres and Redis (left running):
 * no request is cut, every request after the drain began is told to reconnect (Connection: close) or
 * finds the port closed, an open revocation stream ends with a retry hint instead of holding the
 * shutdown, and the process exits right after its last response, far below SHUTDOWN_TIMEOUT_MS.
 */
const SHUTDOWN_TIMEOUT_MS = 30_000;
const CLIENTS = 48;
const BURST_BEFORE_SIGTERM_MS = 1_500;
const LOGINS_IN_FLIGHT = 4;
/** From the last response to the process's exit: closing the pools and exiting, nothing more. */
const EXIT_AFTER_LAST_RESPONSE_MS = 1_000;

describe.skipIf(!DATABASE_URL || !REDIS_URL)("drain on SIGTERM under load (real Postgres and Redis)", () => {
  let environment: TestEnvironment;
  let server: { process: TesseraProcess; url: string };
  let projectId: string;
  let authorization: string;

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment({ SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), LOG_LEVEL: "info" });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    const limits = { exchangesPerSessionPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 1_000_000, loginAttemptsPerIpPerMinute: 1_000 };
    const created = await createProject(deps, { name: "shutdown", settings: { rateLimits: limits } as never });
    await deps.close();
    projectId = created.project.projectId;
    authorization = basicAuth(projectId, created.secret);
    server = await startServer(environment.env);
  }, 90_000);

  afterAll(async () => {
    await server?.process.kill();
    await environment?.cleanup();
  });

  it("cuts no request, tells late requests to reconnect, ends the revocation stream, and exits right after the last response", async () => {
    const json = { authorization, "content-type": "application/json" };
    const signUp = async (email: string) => {
      const response = await fetch(`${server.url}/v1/passwords`, { method: "POST", headers: json, body: JSON.stringify({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 }) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { session_token: string }).session_token;
    };
    const tokens = await Promise.all(Array.from({ length: 4 }, (_, i) => signUp(`burst-${i}@example.com`)));
    const stream = await openRawStream(server.url, authorization);
    await stream.until(/event: ready\n/);

    // The burst: each client holds one keep-alive connection and sends back to back until the port closes.
    const outcomes: Outcome[] = [];
    let stopAt = Infinity;
    const client = async (n: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (let i = 0; Date.now() < stopAt; i++) {
        const exchange = (n + i) % 2 === 0;
        const send1 = () =>
          exchange
            ? send(agent, server.url, "POST", "/v1/sessions/authenticate", json, JSON.stringify({ session_token: tokens[n % tokens.length] }))
            : send(agent, server.url, "GET", `/v1/sessions/jwks/${projectId}`, {});
        let outcome = await send1();
        outcomes.push(outcome);
        // RFC 9112 §9.3.1: a request that met a closing idle connection may be retried on a new one.
        if (outcome.kind === "idle-closed") outcomes.push((outcome = await send1()));
        if (outcome.kind === "refused" || outcome.kind === "cut") break;
      }
      agent.destroy();
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await new Promise((resolve) => setTimeout(resolve, BURST_BEFORE_SIGTERM_MS));

    // Logins (argon2, queued behind a hashing cap of 2) are still running when the signal lands. Their
    // connections are open beforehand, so they are in flight, not racing the listener's close.
    const loginAgents = await Promise.all(
      Array.from({ length: LOGINS_IN_FLIGHT }, async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        expect(await send(agent, server.url, "GET", "/healthz", {})).toMatchObject({ kind: "response", status: 200 });
        return agent;
      }),
    );
    const logins = loginAgents.map((agent) => send(agent, server.url, "POST", "/v1/passwords/authenticate", json, JSON.stringify({ email: "burst-0@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 })));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const signalledAt = performance.now();
    server.process.child.kill("SIGTERM");
    stopAt = Date.now() + SHUTDOWN_TIMEOUT_MS + 5_000; // until the port closes; the old drain cut them at its timeout

    const [loginOutcomes] = await Promise.all([Promise.all(logins), ...clients]);
    for (const agent of loginAgents) agent.destroy();
    const streamEnd = await stream.ended(5_000);
    const exit = await server.process.waitForExit(SHUTDOWN_TIMEOUT_MS + 10_000);
    const drainMs = exit.at - signalledAt;
    const exitedAt = Date.now() - (performance.now() - exit.at); // the same moment on the Date.now() clock

    type LogLine = { msg: string; time: number; path?: string; [key: string]: unknown };
    const logLines = exit.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
    const drainingAt = logLines.find((line) => line.msg === "draining")?.time;
    const stopped = logLines.find((line) => line.msg === "stopped");
    expect(drainingAt, exit.stdout).toBeDefined();

    const all = [...outcomes, ...loginOutcomes];
    const responses = all.filter((o): o is Extract<Outcome, { kind: "response" }> => o.kind === "response");
    const late = all.filter((o) => o.sentAt >= drainingAt!);
    const count = (list: Outcome[], kind: Outcome["kind"]) => list.filter((o) => o.kind === kind).length;
    // What the server handled, from its request log, against what the clients received: a request the
    // server answered but whose answer never arrived would show up here.
    const burstPaths = new Set(["/v1/sessions/authenticate", "/v1/sessions/jwks", "/v1/passwords/authenticate"]);
    const handled = logLines.filter((line) => line.msg === "request" && burstPaths.has(line.path!.startsWith("/v1/sessions/jwks/") ? "/v1/sessions/jwks" : line.path!)).length;
    const received = responses.filter((o) => burstPaths.has(o.path)).length;
    const lastResponseAt = Math.max(...responses.map((o) => o.endedAt));
    const report = {
      requests: all.length,
      handled_by_server: handled,
      complete_responses: received,
      // answers cut short, plus requests the server handled whose answer never arrived
      cut_requests: count(all, "cut") + Math.max(0, handled - received),
      server_errors: responses.filter((o) => o.status >= 500).length,
      in_flight_logins_ok: loginOutcomes.filter((o) => o.kind === "response" && o.status === 200 && o.connection === "close").length,
      responses_with_connection_close: responses.filter((o) => o.connection === "close").length,
      sent_after_drain_began: late.length,
      of_which_connection_close: late.filter((o) => o.kind === "response" && o.connection === "close").length,
      of_which_keep_alive: late.filter((o) => o.kind === "response" && o.connection !== "close").length,
      of_which_refused: count(late, "refused"),
      idle_connections_closed_then_retried: count(all, "idle-closed"),
      drain_ms_sigterm_to_exit: Math.round(drainMs),
      exit_ms_after_last_response: exitedAt - lastResponseAt,
      server_drain_ms: stopped?.drain_ms,
      server_cut_requests: stopped?.cut_requests,
      stream_end: streamEnd,
    };
    console.log(`drain under load: ${JSON.stringify(report)}`);

    expect(all.filter((o) => o.kind === "cut"), "requests cut").toEqual([]);
    expect(handled, "requests the server handled whose answer did not arrive").toBe(received);
    expect(report.server_errors).toBe(0);
    expect(report.in_flight_logins_ok).toBe(LOGINS_IN_FLIGHT);
    expect(report.of_which_keep_alive).toBe(0);
    expect(report.of_which_connection_close + report.of_which_refused + count(late, "idle-closed")).toBe(late.length);
    // it was a burst: most connections had a request in flight when the drain began
    expect(report.responses_with_connection_close).toBeGreaterThanOrEqual(CLIENTS / 2);
    expect(streamEnd).toBe("clean");
    expect(stream.text).toMatch(/\n\nretry: \d+\n\n$/);
    expect(exit.timedOut).toBe(false);
    expect(exit.code).toBe(0);
    expect(stopped?.cut_requests).toBe(0);
    expect(report.exit_ms_after_last_response).toBeLessThan(EXIT_AFTER_LAST_RESPONSE_MS);
    expect(drainMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 6);
  }, 120_000);
});

