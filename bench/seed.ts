import type { Client } from "./soak/client.js";

export const PASSWORD = "violet-Tractor-sunrise-91!";
export const SESSION_DURATION_MINUTES = 600;
const CONCURRENCY = 8;

export interface Seeded {
  emails: string[];
  /** One per session; the load cycles through them. */
  tokens: string[];
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<void>, signal: AbortSignal): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) {
        if (signal.aborted) throw new Error("interrupted");
        await work(items[next++]!);
      }
    }),
  );
}

async function post(client: Client, url: string, path: string, payload: unknown): Promise<Record<string, unknown>> {
  const reply = await client.post(url, path, payload);
  if (reply.status !== 200) throw new Error(`POST ${path} answered ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body!;
}

/**
 * Users and their sessions made the way an app makes them: a sign-up (the first session), then
 * logins through the API, each one an argon2 verification at the server's default hashing cap.
 */
export async function seed(client: Client, url: string, counts: { users: number; sessionsPerUser: number }, signal: AbortSignal): Promise<Seeded> {
  const emails = Array.from({ length: counts.users }, (_, i) => `bench-${i}@example.com`);
  const tokens: string[] = [];
  const login = { password: PASSWORD, session_duration_minutes: SESSION_DURATION_MINUTES };
  await inParallel(emails, async (email) => void tokens.push((await post(client, url, "/v1/passwords", { email, ...login })).session_token as string), signal);
  const logins = emails.flatMap((email) => Array.from({ length: counts.sessionsPerUser - 1 }, () => email));
  await inParallel(logins, async (email) => void tokens.push((await post(client, url, "/v1/passwords/authenticate", { email, ...login })).session_token as string), signal);
  return { emails, tokens };
}

export function jwtHeader(jwt: string): { alg: string; kid: string } {
  return JSON.parse(Buffer.from(jwt.split(".")[0]!, "base64url").toString("utf8")) as { alg: string; kid: string };
}

export function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** A fresh JWT for every session, by one exchange each: the JWT form of the exchange needs ones the current key signed. */
export async function mintJwts(client: Client, url: string, tokens: string[], signal: AbortSignal): Promise<string[]> {
  const jwts = new Map<string, string>();
  await inParallel(tokens, async (token) => void jwts.set(token, (await post(client, url, "/v1/sessions/authenticate", { session_token: token })).session_jwt as string), signal);
  return tokens.map((token) => jwts.get(token)!);
}

/**
 * After `keys rotate --now` through the management API, waits until the exchange signs with the new
 * key (the servers' key cache lives 10 s); returns the seconds it took.
 */
export async function waitForSigningKey(client: Client, url: string, token: string, kid: string, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { session_jwt } = await post(client, url, "/v1/sessions/authenticate", { session_token: token });
    if (jwtHeader(session_jwt as string).kid === kid) return (performance.now() - started) / 1000;
    if (signal.aborted) throw new Error("interrupted");
    if (performance.now() - started > 20_000) throw new Error(`the exchange did not sign with the new key ${kid} within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
