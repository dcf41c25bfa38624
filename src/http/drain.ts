import type { Context } from "hono";
import type { AppEnv } from "./context.js";
import { declaresBody } from "./json-body.js";

/** What the HTTP layer sees of a shutdown: main begins it, routes and middleware react. */
export interface DrainSignal {
  /** True from the moment the drain begins. */
  readonly draining: boolean;
  /** Aborted when the drain begins, for code that waits (the revocation stream). */
  readonly signal: AbortSignal;
}

export interface Drain extends DrainSignal {
  begin(): void;
}

export function createDrain(): Drain {
  const controller = new AbortController();
  return {
    get draining() {
      return controller.signal.aborted;
    },
    signal: controller.signal,
    begin: () => controller.abort(),
  };
}

/**
 * `Connection: close` when the connection must carry no further request:
 * - while draining, so a keep-alive client reconnects (to another instance) instead of sending its next
 *   request into a socket that is about to close;
 * - when the request body was not read to its end (refused before reading: 401, 413, a wrong type):
 *   its unread bytes stand between this response and the next request, and reading an attacker's
 *   body just to keep the connection is what the early refusal avoids. Node closes the socket after
 *   such a response, so the client's next request goes out on a fresh connection.
 */
export const connectionMustClose = (drain: DrainSignal, unreadBody: boolean) => drain.draining || unreadBody;

export function closeConnectionIfDue(c: Context<AppEnv>, drain: DrainSignal): void {
  if (connectionMustClose(drain, !c.get("bodyRead") && declaresBody(c.req.raw.headers))) c.header("Connection", "close");
}
