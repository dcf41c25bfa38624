import { pino, type Logger as PinoLogger } from "pino";

/** Paths pino blanks out wherever they appear in a log object: credentials never reach the logs. */
export const REDACTED_PATHS = [
  "password",
  "*.password",
  "new_password",
  "*.new_password",
  "existing_password",
  "*.existing_password",
  "secret",
  "*.secret",
  "session_token",
  "*.session_token",
  "session_jwt",
  "*.session_jwt",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "cookie",
  "*.cookie",
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): PinoLogger {
  return pino({ level: options.level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, serializers: { err: loggableError }, base: { service: "tessera" } }, options.destination);
}

const MAX_CAUSES = 4;

/**
 * Database errors carry the statement's values where path redaction cannot reach them: drizzle's
 * message and stack ("params: …"), `params` / `parameters`, and Postgres' own message ('out of
 * range: "…"'). Of those we log the SQLSTATE, the routine and the SQL text (parameterised, so no
 * values); of every error its class and stack frames, and the cause chain the same way.
 */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const e = error as Error & Record<string, unknown>;
  // drizzle's DrizzleQueryError (query, params); Postgres errors of both drivers (severity, code = SQLSTATE)
  const fromDatabase = "query" in e || "params" in e || "parameters" in e || typeof e.severity === "string";
  return {
    type: e.constructor?.name ?? e.name,
    ...(fromDatabase ? { code: e.code, severity: e.severity, routine: e.routine, query: typeof e.query === "string" ? e.query : undefined } : { message: e.message }),
    stack: stackFrames(e, fromDatabase),
    ...(e.cause !== undefined && depth < MAX_CAUSES ? { cause: loggableError(e.cause, depth + 1) } : {}),
  };
}

/** The frames only: the stack's first lines repeat the message (values and all), which may itself hold a line like a frame. */
function stackFrames(e: Error, fromDatabase: boolean): string | undefined {
  const stack = e.stack ?? "";
  const end = e.message ? stack.indexOf(e.message) : 0;
  if (end < 0 && fromDatabase) return undefined; // cannot tell the message from the frames: say nothing
  const frames = stack.slice(Math.max(0, end) + e.message.length).split("\n").filter((line) => /^\s+at /.test(line));
  return frames.length ? frames.join("\n") : undefined;
}
