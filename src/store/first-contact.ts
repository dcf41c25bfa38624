import type { Sql } from "postgres";
import { ConfigError } from "../config.js";

/**
 * How long the first connection of a start (server or CLI) may take to answer `select 1`. postgres.js
 * alone never gives up on a port that accepts but does not speak Postgres (an HTTP server, a proxy):
 * measured with its connect_timeout set, still waiting, and busy, after minutes.
 */
export const FIRST_CONTACT_TIMEOUT_MS = 5_000;

// scheme://user:PASSWORD@…  and  ?password=PASSWORD (postgres.js reads both)
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)([^@/?#]*)@/i;
const QUERY_PASSWORD = /([?&]password=)([^&#]*)/gi;

/** The URL with its password replaced by `***`, fit for an error message. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(URL_PASSWORD, "$1***@").replace(QUERY_PASSWORD, "$1***");
}

function passwordsIn(url: string): string[] {
  const found = [URL_PASSWORD.exec(url)?.[2], ...[...url.matchAll(QUERY_PASSWORD)].map((m) => m[2])];
  return found.filter((p): p is string => !!p).flatMap((p) => [p, safeDecode(p)]);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The driver's reason, with the code first (ECONNREFUSED, 28P01, …) and never the password. */
function causeOf(error: unknown, url: string): string {
  const code = (error as { code?: unknown }).code;
  const inner = error instanceof AggregateError ? error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join("; ") : "";
  let message = (error instanceof Error ? error.message : String(error)) || inner || "no reason given";
  for (const password of passwordsIn(url)) message = message.split(password).join("***");
  return typeof code === "string" && !message.includes(code) ? `${code} ${message}` : message;
}

/**
 * One `select 1` before anything else, so an unusable DATABASE_URL (closed port, unknown host, wrong
 * password, missing database, not Postgres at all) stops the start within seconds with an error that
 * names the variable and the cause, instead of a bare `ECONNREFUSED` or a hang.
 */
export async function assertReachable(client: Sql, url: string, timeoutMs = FIRST_CONTACT_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const outcome = await Promise.race([client`select 1`.then(() => "ok" as const), gaveUp]);
    if (outcome === "timeout") {
      throw new ConfigError([{ variable: "DATABASE_URL", message: `${redactDatabaseUrl(url)} did not answer as Postgres within ${timeoutMs / 1000} s (is that host and port a Postgres server?)` }]);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([{ variable: "DATABASE_URL", message: `cannot connect to ${redactDatabaseUrl(url)}: ${causeOf(error, url)}` }], { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
