import type { MiddlewareHandler } from "hono";
import { TesseraError } from "../errors.js";
import { authenticateProjectSecret } from "../domain/project-auth.js";
import type { DomainDeps } from "../domain/ports.js";
import type { Project } from "../domain/types.js";
import type { AppEnv } from "./context.js";
import { END_USER_IP_HEADER, vouchedEndUserIp } from "./end-user-ip.js";

const BASIC = /^Basic ([A-Za-z0-9+/=]+)$/i;

/**
 * A backend caller from its two headers: HTTP Basic `project_id:secret` (the backend API's one
 * credential source) and the end user's address it may vouch for.
 */
export async function authenticateBackendCall(
  deps: Pick<DomainDeps, "store" | "clock" | "limiter">,
  authorization: string | undefined,
  endUserIp: string | undefined,
): Promise<{ project: Project; throttleIp: string | undefined }> {
  const match = BASIC.exec((authorization ?? "").trim());
  const decoded = match ? Buffer.from(match[1]!, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new TesseraError("unauthorized_credentials");
  const project = await authenticateProjectSecret(deps, decoded.slice(0, colon), decoded.slice(colon + 1));
  return { project, throttleIp: vouchedEndUserIp(endUserIp) };
}

export function projectSecretAuth(deps: Pick<DomainDeps, "store" | "clock" | "limiter">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { project, throttleIp } = await authenticateBackendCall(deps, c.req.header("authorization"), c.req.header(END_USER_IP_HEADER));
    c.set("project", project);
    c.set("client", { ...c.get("client"), throttleIp });
    await next();
  };
}
