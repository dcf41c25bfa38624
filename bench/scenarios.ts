import { runChild } from "./child.js";
import type { CryptoJob, JoseResult, VerifyResult } from "./crypto-child.js";
import type { LoadRun, LoadSpec, LoadTool } from "./load/tool.js";
import { jwtPayload, PASSWORD, SESSION_DURATION_MINUTES } from "./seed.js";
import { measured, type Measured } from "./stats.js";
import { defaultHashConcurrency } from "../src/config.js";

export type Alg = "RS256" | "ES256" | "EdDSA";

/** How long each part runs: the full bench, or --quick (one short run each, a smoke test for CI). */
export interface Timing {
  warmupSeconds: number;
  runs: number;
  runSeconds: number;
  cryptoWarmupMs: number;
  cryptoRoundMs: number;
  users: number;
  sessionsPerUser: number;
}

export const CONNECTIONS = 32;
/** The default hashing cap (PASSWORD_HASH_CONCURRENCY) on this machine: logins that never queue, so the latency is one login's. */
export const LOGIN_CONNECTIONS = defaultHashConcurrency();
export const STORM_CONNECTIONS = 64;
/** The storm builds up this long before the exchange is measured in it. */
const STORM_LEAD_SECONDS = 1;
/** The server's libuv pool by default (hashing cap + 4); the crypto children get the same. */
const THREADPOOL = "6";

export interface LoadResult {
  connections: number;
  rps: Measured;
  p50Ms: Measured;
  p99Ms: Measured;
  requests: number;
  non2xx: number;
  socketErrors: number;
}

export interface Context {
  url: string;
  tool: LoadTool;
  timing: Timing;
  signal: AbortSignal;
  authorization: string;
  log(line: string): void;
}

function summarize(connections: number, runs: LoadRun[]): LoadResult {
  const sum = (pick: (run: LoadRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    connections,
    rps: measured(runs.map((run) => run.rps)),
    p50Ms: measured(runs.map((run) => run.p50Ms)),
    p99Ms: measured(runs.map((run) => run.p99Ms)),
    requests: sum((run) => run.requests),
    non2xx: sum((run) => run.non2xx),
    socketErrors: sum((run) => run.socketErrors),
  };
}

const post = (ctx: Context, path: string, bodies: unknown[], connections: number, seconds: number): LoadSpec => ({
  url: `${ctx.url}${path}`,
  method: "POST",
  headers: { authorization: ctx.authorization, "content-type": "application/json" },
  bodies: bodies.map((body) => JSON.stringify(body)),
  connections,
  seconds,
});

/** A warm-up (not counted), then the runs; each run is one load-tool process. */
async function load(ctx: Context, spec: (seconds: number) => LoadSpec, connections: number): Promise<LoadResult> {
  if (ctx.timing.warmupSeconds > 0) await ctx.tool.run(spec(ctx.timing.warmupSeconds), ctx.signal);
  const runs: LoadRun[] = [];
  for (let run = 0; run < ctx.timing.runs; run++) runs.push(await ctx.tool.run(spec(ctx.timing.runSeconds), ctx.signal));
  return summarize(connections, runs);
}

export const healthz = (ctx: Context) => load(ctx, (seconds) => ({ url: `${ctx.url}/healthz`, method: "GET", headers: {}, bodies: [], connections: CONNECTIONS, seconds }), CONNECTIONS);

export const exchangeByToken = (ctx: Context, tokens: string[]) =>
  load(ctx, (seconds) => post(ctx, "/v1/sessions/authenticate", tokens.map((session_token) => ({ session_token })), CONNECTIONS, seconds), CONNECTIONS);

export const exchangeByJwt = (ctx: Context, jwts: string[]) =>
  load(ctx, (seconds) => post(ctx, "/v1/sessions/authenticate", jwts.map((session_jwt) => ({ session_jwt })), CONNECTIONS, seconds), CONNECTIONS);

const loginBodies = (emails: string[]) => emails.map((email) => ({ email, password: PASSWORD, session_duration_minutes: SESSION_DURATION_MINUTES }));

export const login = (ctx: Context, emails: string[]) =>
  load(ctx, (seconds) => post(ctx, "/v1/passwords/authenticate", loginBodies(emails), LOGIN_CONNECTIONS, seconds), LOGIN_CONNECTIONS);

/**
 * The exchange by token while 64 logins are in flight from another load process: the storm starts
 * first, builds up for a second, and outlasts the measured run. Its own rate is reported too.
 */
export async function exchangeInLoginStorm(ctx: Context, tokens: string[], emails: string[]): Promise<{ exchange: LoadResult; logins: LoadResult }> {
  const exchanges: LoadRun[] = [];
  const logins: LoadRun[] = [];
  const stormSeconds = STORM_LEAD_SECONDS + ctx.timing.runSeconds + 1;
  for (let run = 0; run < ctx.timing.runs; run++) {
    const storm = ctx.tool.run(post(ctx, "/v1/passwords/authenticate", loginBodies(emails), STORM_CONNECTIONS, stormSeconds), ctx.signal);
    storm.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection meanwhile
    await new Promise((resolve) => setTimeout(resolve, STORM_LEAD_SECONDS * 1000));
    exchanges.push(await ctx.tool.run(post(ctx, "/v1/sessions/authenticate", tokens.map((session_token) => ({ session_token })), CONNECTIONS, ctx.timing.runSeconds), ctx.signal));
    logins.push(await storm);
  }
  return { exchange: summarize(CONNECTIONS, exchanges), logins: summarize(STORM_CONNECTIONS, logins) };
}

/**
 * The exchange by token on one process and on a WEB_CONCURRENCY cluster of the same database, one run
 * of each in turn (after a warm-up of each): this machine's speed drifts within minutes, and runs side
 * by side see the same drift. Both servers are up throughout; the one not measured is idle.
 */
export async function exchangeOneVsCluster(ctx: Context, tokens: string[], clusterUrl: string): Promise<{ one: LoadResult; cluster: LoadResult }> {
  const exchange = (url: string, seconds: number) => post({ ...ctx, url }, "/v1/sessions/authenticate", tokens.map((session_token) => ({ session_token })), CONNECTIONS, seconds);
  const one: LoadRun[] = [];
  const cluster: LoadRun[] = [];
  for (const url of [ctx.url, clusterUrl]) if (ctx.timing.warmupSeconds > 0) await ctx.tool.run(exchange(url, ctx.timing.warmupSeconds), ctx.signal);
  for (let run = 0; run < ctx.timing.runs; run++) {
    one.push(await ctx.tool.run(exchange(ctx.url, ctx.timing.runSeconds), ctx.signal));
    cluster.push(await ctx.tool.run(exchange(clusterUrl, ctx.timing.runSeconds), ctx.signal));
  }
  return { one: summarize(CONNECTIONS, one), cluster: summarize(CONNECTIONS, cluster) };
}

const cryptoRounds = (ctx: Context) => ({ warmupMs: ctx.timing.cryptoWarmupMs, roundMs: ctx.timing.cryptoRoundMs, rounds: ctx.timing.runs, concurrency: CONNECTIONS });
const cryptoChild = <T>(ctx: Context, job: CryptoJob) => runChild<T>("crypto-child.ts", job, { signal: ctx.signal, timeoutMs: 120_000, env: { UV_THREADPOOL_SIZE: THREADPOOL } });

/** Bare jose signing and verifying, with a payload like the server's (taken from one of its JWTs). */
export async function bareJose(ctx: Context, alg: Alg, sampleJwt: string): Promise<{ concurrency: number; sign: Measured; verify: Measured }> {
  const result = await cryptoChild<JoseResult>(ctx, { mode: "jose", alg, payload: jwtPayload(sampleJwt), ...cryptoRounds(ctx) });
  return { concurrency: CONNECTIONS, sign: measured(result.sign), verify: measured(result.verify) };
}

export async function localVerification(ctx: Context, project: { projectId: string; secret: string }, jwt: string): Promise<{ concurrency: number; ours: Measured; bare: Measured }> {
  const result = await cryptoChild<VerifyResult>(ctx, { mode: "verify", url: ctx.url, ...project, jwt, ...cryptoRounds(ctx) });
  return { concurrency: CONNECTIONS, ours: measured(result.ours), bare: measured(result.bare) };
}
