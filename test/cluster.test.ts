import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps } from "../src/deps.js";
import { createProject } from "../src/domain/projects.js";
import { basicAuth, createTestEnvironment, DATABASE_URL, REDIS_URL, STRONG_PASSWORD, type TestEnvironment } from "./helpers.js";
import { send, type Outcome } from "./http-outcomes.js";
import { openRawStream } from "./raw-sse.js";
import { assertBuilt, runTessera, startServer, type TesseraProcess } from "./server-process.js";

/**
 * WEB_CONCURRENCY=2 as an operator runs it (`node bin/tessera.cjs serve`): a primary and two workers
 * sharing one port. Which worker answered a request is read from the server's log (each worker's lines
 * carry its pid; a response's request_id finds its line), so nothing about the processes is exposed to
 * clients. Requests go out on fresh connections where the spread matters: the primary hands out
 * connections, not requests, round-robin.
 */
const SHUTDOWN_TIMEOUT_MS = 20_000;
const EXCHANGE = "/v1/sessions/authenticate";
const METRICS_TOKEN = "cluster-test-metrics-token-0123456789";

describe("WEB_CONCURRENCY without shared services", () => {
  beforeAll(() => assertBuilt());

  const refusal = async (env: Record<string, string>) => {
    const dataDir = mkdtempSync(join(tmpdir(), "tessera-cluster-"));
    try {
      const exit = await runTessera(["serve"], { NODE_ENV: "test", DATA_DIR: dataDir, PORT: "0", ADMIN_PORT: "0", WEB_CONCURRENCY: "2", ...env }, 30_000);
      return { ...exit, dataDirFiles: readdirSync(dataDir) };
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  it("refuses two workers on the embedded database, with the other config problems, before anything starts", async () => {
    const exit = await refusal({ PORT: "not-a-port" });
    expect(exit.timedOut).toBe(false);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("PORT: ");
    expect(exit.stderr).toContain("WEB_CONCURRENCY: 2 workers need DATABASE_URL: the embedded database (PGlite in DATA_DIR) serves one process");
    expect(exit.stderr).toContain("WEB_CONCURRENCY: 2 workers need REDIS_URL");
    expect(exit.dataDirFiles).toEqual([]); // no database, no key: it stopped at the configuration
  });

  it("refuses two workers without REDIS_URL (per-process rate limits and revocation feed)", async () => {
    const exit = await refusal({ DATABASE_URL: "postgres://127.0.0.1:1/unused" });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^tessera: WEB_CONCURRENCY: 2 workers need REDIS_URL: rate limits and the revocation feed must be shared/);
    expect(exit.stderr).not.toContain("DATABASE_URL");
  });
});

type LogLine = { msg: string; time: number; pid?: number; worker?: number; request_id?: string; path?: string; [key: string]: unknown };

describe.skipIf(!DATABASE_URL || !REDIS_URL)("WEB_CONCURRENCY=2 (real Postgres and Redis)", () => {
  let environment: TestEnvironment;
  let server: { process: TesseraProcess; url: string };
  let projectId: string;
  let authorization: string;
  let json: Record<string, string>;

  const logLines = (): LogLine[] =>
    server.process.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as LogLine);
  const waitForLog = async (match: (line: LogLine) => boolean, what: string, ms = 20_000): Promise<LogLine> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = logLines().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no log line "${what}" within ${ms} ms:\n${server.process.stdout}\n${server.process.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  /** The pid of the worker that answered each request (its log line may land a moment after the answer). */
  const answeredBy = async (outcomes: Outcome[]): Promise<number[]> =>
    Promise.all(
      outcomes.map(async (outcome) => {
        const requestId = outcome.kind === "response" ? outcome.requestId : undefined;
        expect(requestId, JSON.stringify(outcome)).toBeDefined();
        return (await waitForLog((line) => line.msg === "request" && line.request_id === requestId, `request ${requestId}`)).pid!;
      }),
    );
  const workerPids = () => logLines().filter((line) => line.msg === "tessera listening").map((line) => line.pid!);
  const exchangeOnNewConnection = (token: string) => send(false, server.url, "POST", EXCHANGE, json, JSON.stringify({ session_token: token }));
  const signUp = async (email: string) => {
    const response = await fetch(`${server.url}/v1/passwords`, { method: "POST", headers: json, body: JSON.stringify({ email, password: STRONG_PASSWORD, session_duration_minutes: 60 }) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { session_token: string; session: { session_id: string } };
    return { token: body.session_token, sessionId: body.session.session_id };
  };
  const statuses = (outcomes: Outcome[]) => outcomes.map((o) => (o.kind === "response" ? o.status : o.kind));

  beforeAll(async () => {
    assertBuilt();
    environment = await createTestEnvironment({ WEB_CONCURRENCY: "2", LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), METRICS_TOKEN });
    const deps = await createDeps(environment.config, { logger: pino({ level: "silent" }) });
    const limits = { exchangesPerSessionPerMinute: 1_000_000, apiCallsPerSecretPerMinute: 1_000_000, loginAttemptsPerIpPerMinute: 1_000 };
    const created = await createProject(deps, { name: "cluster", settings: { rateLimits: limits } as never });
    await deps.close();
    projectId = created.project.projectId;
    authorization = basicAuth(projectId, created.secret);
    json = { authorization, "content-type": "application/json" };
    server = await startServer(environment.env);
    await waitForLog((line) => line.msg === "cluster ready", "cluster ready");
  }, 90_000);

  afterAll(async () => {
    // SIGKILL of the primary: its workers see the IPC channel close and exit with it.
    await server?.process.kill();
    await environment?.cleanup();
  });

  it("answers from two worker processes on one port", async () => {
    const ready = logLines().find((line) => line.msg === "cluster ready")!;
    expect(ready.workers).toHaveLength(2);
    expect(new Set(workerPids())).toEqual(new Set(ready.workers as number[]));
    expect(workerPids()).not.toContain(server.process.pid);

    const { token } = await signUp("spread@example.com");
    const outcomes = await Promise.all(Array.from({ length: 16 }, () => exchangeOnNewConnection(token)));
    expect(statuses(outcomes)).toEqual(Array(16).fill(200));
    expect(new Set(await answeredBy(outcomes))).toEqual(new Set(ready.workers as number[]));
  });

  it("answers every scrape of /metrics with the sum of both workers, whichever worker it reached", async () => {
    const { token } = await signUp("metrics@example.com");
    expect(statuses(await Promise.all(Array.from({ length: 10 }, () => exchangeOnNewConnection(token))))).toEqual(Array(10).fill(200));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the last request lines
    const served = logLines().filter((line) => line.msg === "request" && line.path === EXCHANGE && line.status === 200);
    expect(new Set(served.map((line) => line.pid)).size).toBe(2);

    const scrapes = await Promise.all(Array.from({ length: 6 }, () => send(false, server.url, "GET", "/metrics", { authorization: `Bearer ${METRICS_TOKEN}` })));
    expect(statuses(scrapes)).toEqual(Array(6).fill(200));
    expect(new Set(await answeredBy(scrapes)).size).toBe(2);
    for (const scrape of scrapes) {
      const text = (scrape as Extract<Outcome, { kind: "response" }>).body;
      expect(text).toContain(`tessera_exchanges_total{surface="backend",outcome="ok"} ${served.length}\n`);
      expect(text).toContain('tessera_redis_state{state="up"} 1\n'); // each worker's 1, not their sum
    }
  });

  it("refuses a session revoked through one worker at once on every worker, and streams it from every worker", async () => {
    // A revocation stream on each worker: streams hold their connections, so each opens a new one.
    const streams = new Map<number, Awaited<ReturnType<typeof openRawStream>>>();
    for (let i = 0; i < 8 && streams.size < 2; i++) {
      const stream = await openRawStream(server.url, authorization);
      const line = await waitForLog((l) => l.msg === "request" && l.request_id === stream.requestId, "the stream's request");
      if (!streams.has(line.pid!)) streams.set(line.pid!, stream);
    }
    expect(streams.size).toBe(2);
    for (const stream of streams.values()) await stream.until(/event: ready\n/);

    const { token, sessionId } = await signUp("revoked@example.com");
    const before = await Promise.all(Array.from({ length: 8 }, () => exchangeOnNewConnection(token)));
    expect(statuses(before)).toEqual(Array(8).fill(200)); // both workers have seen the session (and the project) live
    expect(new Set(await answeredBy(before)).size).toBe(2);

    const revoke = await send(false, server.url, "POST", "/v1/sessions/revoke", json, JSON.stringify({ session_token: token }));
    expect(revoke).toMatchObject({ kind: "response", status: 200 });
    const after = await Promise.all(Array.from({ length: 16 }, () => exchangeOnNewConnection(token)));
    expect(statuses(after)).toEqual(Array(16).fill(404));
    expect(new Set(await answeredBy(after)).size).toBe(2);

    // The stream on the worker that did not revoke hears of it through Redis, well before its 5 s poll.
    for (const stream of streams.values()) await stream.until(new RegExp(`"session_id":"${sessionId}"`), 2_000);
  });

  it("serves the management API on a port shared by the workers, announced once by the primary; a secret revoked there is refused at once by every worker", async () => {
    const announced = JSON.parse(readFileSync(join(environment.dataDir, "server.json"), "utf8")) as { pid: number; admin_url: string };
    expect(announced.pid).toBe(server.process.pid);
    const adminKey = readFileSync(join(environment.dataDir, "admin.key"), "utf8").trim();
    const admin = (method: "GET" | "POST", path: string) => send(false, announced.admin_url, method, path, { authorization: `Bearer ${adminKey}`, ...(method === "POST" ? { "content-type": "application/json" } : {}) }, method === "POST" ? "{}" : undefined);
    const adminBy = async (outcome: Outcome) => {
      const requestId = outcome.kind === "response" ? outcome.requestId : undefined;
      return (await waitForLog((line) => line.msg === "admin request" && line.request_id === requestId, `admin request ${requestId}`)).pid!;
    };
    const listings = await Promise.all(Array.from({ length: 6 }, () => admin("GET", "/admin/v1/projects")));
    expect(statuses(listings)).toEqual(Array(6).fill(200));
    expect(new Set(await Promise.all(listings.map(adminBy))).size).toBe(2);

    const created = await fetch(`${announced.admin_url}/admin/v1/projects/${projectId}/secrets`, { method: "POST", headers: { authorization: `Bearer ${adminKey}` } });
    expect(created.status).toBe(200);
    const { secret_id: secretId, secret } = (await created.json()) as { secret_id: string; secret: string };
    const { token } = await signUp("second-secret@example.com");
    const withSecret = { authorization: basicAuth(projectId, secret), "content-type": "application/json" };
    const exchanges = () => Promise.all(Array.from({ length: 12 }, () => send(false, server.url, "POST", EXCHANGE, withSecret, JSON.stringify({ session_token: token }))));
    const before = await exchanges();
    expect(statuses(before)).toEqual(Array(12).fill(200));
    expect(new Set(await answeredBy(before)).size).toBe(2);

    expect(await admin("POST", `/admin/v1/projects/${projectId}/secrets/${secretId}/revoke`)).toMatchObject({ kind: "response", status: 200 });
    const after = await exchanges();
    expect(statuses(after)).toEqual(Array(12).fill(401));
    expect(new Set(await answeredBy(after)).size).toBe(2);
  });

  it("restarts a worker killed with SIGKILL while the other one keeps serving", async () => {
    const [victim, survivor] = workerPids().slice(-2);
    const { token } = await signUp("kill@example.com");
    process.kill(victim!, "SIGKILL");
    const died = await waitForLog((line) => line.msg === "worker died; restarting it" && line.worker_pid === victim, "worker died");
    expect(died).toMatchObject({ signal: "SIGKILL", restart_in_ms: 250 });

    // Until the new worker is up, the survivor answers every new connection (the new one may take the last few).
    const during: Outcome[] = [];
    while (!logLines().some((line) => line.msg === "worker restarted")) during.push(await exchangeOnNewConnection(token));
    expect(statuses(during).every((status) => status === 200), JSON.stringify(statuses(during))).toBe(true);
    const restarted = logLines().find((line) => line.msg === "worker restarted")!;
    const fresh = restarted.worker_pid as number;
    const duringBy = await answeredBy(during);
    expect(duringBy[0]).toBe(survivor);
    expect(duringBy.filter((pid) => pid !== survivor && pid !== fresh)).toEqual([]);
    expect([victim, survivor]).not.toContain(fresh);
    const after = await Promise.all(Array.from({ length: 12 }, () => exchangeOnNewConnection(token)));
    expect(statuses(after)).toEqual(Array(12).fill(200));
    expect(new Set(await answeredBy(after))).toEqual(new Set([survivor, fresh]));
  });

  it("drains both workers on SIGTERM under load: no request cut, no answer lost, exit 0", async () => {
    const tokens = await Promise.all(Array.from({ length: 4 }, async (_, i) => (await signUp(`burst-${i}@example.com`)).token));
    const burstStartedAt = Date.now();
    const outcomes: Outcome[] = [];
    let stopAt = Infinity;
    const client = async (n: number) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      while (Date.now() < stopAt) {
        const exchange = () => send(agent, server.url, "POST", EXCHANGE, json, JSON.stringify({ session_token: tokens[n % tokens.length] }));
        let outcome = await exchange();
        outcomes.push(outcome);
        // RFC 9112 §9.3.1: a request that met a closing idle connection may be retried on a new one.
        if (outcome.kind === "idle-closed") outcomes.push((outcome = await exchange()));
        if (outcome.kind === "refused" || outcome.kind === "cut") break;
      }
      agent.destroy();
    };
    const clients = Array.from({ length: 32 }, (_, n) => client(n));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const signalledAt = performance.now();
    server.process.child.kill("SIGTERM");
    stopAt = Date.now() + SHUTDOWN_TIMEOUT_MS + 5_000; // until the port closes
    await Promise.all(clients);
    const exit = await server.process.waitForExit(SHUTDOWN_TIMEOUT_MS + 10_000);

    const lines = logLines();
    const responses = outcomes.filter((o): o is Extract<Outcome, { kind: "response" }> => o.kind === "response");
    const received = new Set(responses.map((o) => o.requestId));
    const handled = lines.filter((line) => line.msg === "request" && line.path === EXCHANGE && line.time >= burstStartedAt);
    const workersStopped = lines.filter((line) => line.msg === "stopped" && line.worker !== undefined);
    const report = {
      requests: outcomes.length,
      responses: responses.length,
      by_worker: Object.fromEntries([...new Set(handled.map((l) => l.pid))].map((pid) => [pid, handled.filter((l) => l.pid === pid).length])),
      cut: outcomes.filter((o) => o.kind === "cut").length,
      refused: outcomes.filter((o) => o.kind === "refused").length,
      connection_close: responses.filter((o) => o.connection === "close").length,
      sigterm_to_exit_ms: Math.round(exit.at - signalledAt),
    };
    console.log(`cluster drain under load: ${JSON.stringify(report)}`);

    expect(outcomes.filter((o) => o.kind === "cut"), "requests cut").toEqual([]);
    expect(responses.filter((o) => o.status !== 200), "non-200 answers").toEqual([]);
    expect(handled.filter((line) => !received.has(line.request_id)), "answers the server sent that never arrived").toEqual([]);
    expect(Object.keys(report.by_worker)).toHaveLength(2);
    expect(report.connection_close).toBeGreaterThan(0); // the drain told keep-alive clients to go
    expect(workersStopped.map((line) => line.cut_requests)).toEqual([0, 0]);
    expect(lines.find((line) => line.msg === "stopped" && line.primary)).toMatchObject({ clean: true });
    expect(exit.timedOut).toBe(false);
    expect(exit.code).toBe(0);
    expect(report.sigterm_to_exit_ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 4);
  }, 60_000);
});
