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
  return pino({ level: options.level, redact: { paths: REDACTED_PATHS, censor: "[redacted]" }, base: { service: "tessera" } }, options.destination);
}
