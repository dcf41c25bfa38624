import type { Context } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Project, RequestContext } from "../domain/types.js";

export interface AppEnv {
  Variables: {
    requestId: string;
    project: Project;
  };
}

/** Client address and agent for audit events and session attributes. Proxy headers are not trusted. */
export function requestContext(c: Context<AppEnv>): RequestContext {
  let ip: string | undefined;
  try {
    ip = getConnInfo(c).remote.address;
  } catch {
    ip = undefined; // app.request() in tests has no socket
  }
  const userAgent = c.req.header("user-agent")?.slice(0, 512);
  return { ip, userAgent };
}
