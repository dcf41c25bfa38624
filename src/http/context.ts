import type { Context } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Project, RequestContext } from "../domain/types.js";

export interface AppEnv {
  Variables: {
    requestId: string;
    project: Project;
    client: RequestContext;
    /** Set once the request body has been read to its end (json-body.ts). */
    bodyRead: boolean;
  };
}

/** Who is asking, for rate limits, audit events and session attributes. */
export function requestContext(c: Context<AppEnv>): RequestContext {
  return c.get("client");
}

/**
 * Resolves the client address once per request. A proxy header is read only when TRUST_PROXY names
 * it (anyone can send one); for X-Forwarded-For the right-most entry is the one our proxy appended.
 */
export function clientContextOf(c: Context<AppEnv>, trustProxyHeader: string | undefined): RequestContext {
  let ip: string | undefined;
  if (trustProxyHeader) {
    const value = c.req.header(trustProxyHeader);
    ip = value?.split(",").at(-1)?.trim() || undefined;
  }
  if (!ip) {
    try {
      ip = getConnInfo(c).remote.address;
    } catch {
      ip = undefined; // app.request() in tests has no socket
    }
  }
  return { ip: ip?.slice(0, 64), userAgent: c.req.header("user-agent")?.slice(0, 512) };
}
