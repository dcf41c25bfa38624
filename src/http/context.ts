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
export function clientContext(proxyHeaderValue: string | undefined, socketAddress: string | undefined, userAgent: string | undefined): RequestContext {
  const ip = proxyHeaderValue?.split(",").at(-1)?.trim() || socketAddress;
  return { ip: ip?.slice(0, 64), userAgent: userAgent?.slice(0, 512) };
}

export function clientContextOf(c: Context<AppEnv>, trustProxyHeader: string | undefined): RequestContext {
  const proxied = trustProxyHeader ? c.req.header(trustProxyHeader) : undefined;
  let socketAddress: string | undefined;
  try {
    socketAddress = getConnInfo(c).remote.address;
  } catch {
    socketAddress = undefined; // app.request() in tests has no socket
  }
  return clientContext(proxied, socketAddress, c.req.header("user-agent"));
}
