import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";

/**
 * On the Node server, @hono/node-server passes the Node request and response as `env.incoming` and
 * `env.outgoing`; an in-process `app.request()` (tests) has neither, and callers fall back to Hono's
 * web objects. The hot path goes around those objects where they cost more than the work itself.
 */
export function nodeRequestOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming && typeof (incoming as IncomingMessage).on === "function" ? (incoming as IncomingMessage) : undefined;
}

function nodeResponseOf(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing && typeof (outgoing as ServerResponse).setHeader === "function" ? (outgoing as ServerResponse) : undefined;
}

/**
 * Sets a header on whatever response this request gets, errors included. On Node it goes on the Node
 * response, which merges it under the headers Hono writes (a handler's own `c.header()` still wins):
 * through `c.header()`, the first header makes Hono build a web `Headers` that the adapter then
 * converts back, a measurable share of the exchange's CPU.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = nodeResponseOf(c);
  if (outgoing) outgoing.setHeader(name, value);
  else c.header(name, value);
}
