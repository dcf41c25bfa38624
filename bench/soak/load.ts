import { NetworkError, type Client, type Reply } from "./client.js";
import type { Op, Outcome, Recorder } from "./recorder.js";

export interface SoakSession {
  id: string;
  token: string;
  /** The latest JWT an exchange handed back: a client keeps the freshest one. */
  jwt: string;
}

export interface Target {
  name: string;
  url: string;
}

/**
 * The mix, in percent of operations. Mostly exchanges, as in production, where an app exchanges far
 * more often than users log in. Each revoke is followed by an exchange of the revoked session on
 * both instances, and revoked_check re-exchanges older ones, so the soak proves revocation holds.
 */
export const MIX: Readonly<Record<"exchange_token" | "exchange_jwt" | "login" | "revoke" | "revoked_check", number>> = {
  exchange_token: 45,
  exchange_jwt: 40,
  login: 5,
  revoke: 5,
  revoked_check: 5,
};

export const SESSION_DURATION_MINUTES = 240;
const REVOKED_KEPT = 1000;

export interface LoadOptions {
  targets: readonly Target[];
  client: Client;
  recorder: Recorder;
  emails: readonly string[];
  password: string;
  pool: SoakSession[];
  durationMs: number;
  concurrency: number;
  signal: AbortSignal;
}

const random = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const errorType = (reply: Reply) => String(reply.body?.error_type ?? "");
const expectOk = (reply: Reply): Outcome => (reply.status >= 200 && reply.status < 300 ? "ok" : `http ${reply.status} ${errorType(reply)}`);

/** A revoked session must get 404 session_not_found (reason `revoked`) from every instance. */
export function expectRevoked(reply: Reply): Outcome {
  const reason = String((reply.body?.error_details as { reason?: unknown } | undefined)?.reason ?? "");
  if (reply.status === 404 && errorType(reply) === "session_not_found") return reason === "revoked" ? "ok" : `violation 404 session_not_found reason=${reason}`;
  if (reply.status < 300 || reply.status === 404) return `violation ${reply.status} ${errorType(reply)}`;
  return `http ${reply.status} ${errorType(reply)}`; // a 503 fails closed: an error, not a wrong answer
}

/**
 * A closed loop of `concurrency` workers, each with one request in flight: bounded pressure, so the
 * soak measures a steady state rather than a queue growing without bound.
 */
export async function runLoad(options: LoadOptions): Promise<void> {
  const { targets, client, recorder, pool, signal } = options;
  const target = pool.length;
  const revoked: SoakSession[] = [];
  let leased = 0;
  let revokeCredential = 0;
  const end = performance.now() + options.durationMs;

  // Taking a session out of the pool while it is in use means no revoke races an exchange of it,
  // so a 404 on a live session is always a real error.
  const lease = (): SoakSession | undefined => {
    if (pool.length === 0) return undefined;
    const index = Math.floor(Math.random() * pool.length);
    [pool[index], pool[pool.length - 1]] = [pool[pool.length - 1]!, pool[index]!];
    leased++;
    return pool.pop();
  };
  const release = (session: SoakSession, alive: boolean) => {
    leased--;
    if (alive) pool.push(session);
  };

  async function call(op: Op, to: Target, path: string, body: unknown, judge: (reply: Reply) => Outcome): Promise<Reply | null> {
    const started = performance.now();
    let reply: Reply | null = null;
    let outcome: Outcome;
    try {
      reply = await client.post(to.url, path, body);
      outcome = judge(reply);
    } catch (error) {
      outcome = `network ${error instanceof NetworkError ? error.code : String(error)}`;
    }
    recorder.record(op, to.name, performance.now() - started, outcome);
    return outcome === "ok" ? reply : null;
  }

  async function exchange(by: "token" | "jwt") {
    const session = lease();
    if (!session) return login();
    const body = by === "token" ? { session_token: session.token } : { session_jwt: session.jwt };
    const reply = await call(`exchange_${by}`, random(targets), "/v1/sessions/authenticate", body, expectOk);
    if (reply) session.jwt = String(reply.body?.session_jwt);
    release(session, reply !== null);
  }

  async function login() {
    const body = { email: random(options.emails), password: options.password, session_duration_minutes: SESSION_DURATION_MINUTES };
    const reply = await call("login", random(targets), "/v1/passwords/authenticate", body, expectOk);
    if (reply) pool.push({ id: String((reply.body?.session as { session_id?: unknown })?.session_id), token: String(reply.body?.session_token), jwt: String(reply.body?.session_jwt) });
  }

  async function revoke() {
    const session = lease();
    if (!session) return login();
    // Every way of naming the session in turn: by id, by token, by JWT.
    const credential = [{ session_id: session.id }, { session_token: session.token }, { session_jwt: session.jwt }][revokeCredential++ % 3];
    const reply = await call("revoke", random(targets), "/v1/sessions/revoke", credential, expectOk);
    // A failed revoke may still have committed (a reset after the commit): the session is neither
    // known alive nor known revoked, so it leaves the pool and is checked nowhere.
    release(session, false);
    if (!reply) return;
    revoked.length < REVOKED_KEPT ? revoked.push(session) : (revoked[Math.floor(Math.random() * REVOKED_KEPT)] = session);
    // At once, on both instances, by token on one and by JWT on the other.
    const [first, second] = Math.random() < 0.5 ? [targets[0]!, targets[1]!] : [targets[1]!, targets[0]!];
    await call("revoked_check", first, "/v1/sessions/authenticate", { session_token: session.token }, expectRevoked);
    await call("revoked_check", second, "/v1/sessions/authenticate", { session_jwt: session.jwt }, expectRevoked);
  }

  async function recheck() {
    if (revoked.length === 0) return exchange("token");
    const session = random(revoked);
    const body = Math.random() < 0.5 ? { session_token: session.token } : { session_jwt: session.jwt };
    await call("revoked_check", random(targets), "/v1/sessions/authenticate", body, expectRevoked);
  }

  const weights = Object.entries(MIX) as [keyof typeof MIX, number][];
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  function pick(): keyof typeof MIX {
    let roll = Math.random() * total;
    for (const [op, weight] of weights) if ((roll -= weight) < 0) return op;
    return "exchange_token";
  }

  async function step() {
    let op = pick();
    // Logins and revokes come in equal shares; this keeps their random walk within ±10% of the seed,
    // so a revoked session is, in effect, replaced by a new login and the pool stays large.
    const sessions = pool.length + leased;
    if (op === "login" && sessions > target * 1.1) op = "revoke";
    else if (op === "revoke" && sessions < target * 0.9) op = "login";
    if (op === "exchange_token") return exchange("token");
    if (op === "exchange_jwt") return exchange("jwt");
    if (op === "login") return login();
    if (op === "revoke") return revoke();
    return recheck();
  }

  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end && !signal.aborted) await step();
    }),
  );
}
