import type { MiddlewareHandler } from "hono";
import { TesseraError } from "../errors.js";
import { authenticateProjectSecret } from "../domain/project-auth.js";
import type { DomainDeps } from "../domain/ports.js";
import type { AppEnv } from "./context.js";
import { END_USER_IP_HEADER, vouchedEndUserIp } from "./end-user-ip.js";

/** HTTP Basic `project_id:secret`, the backend API's one credential source. */
export function projectSecretAuth(deps: Pick<DomainDeps, "store" | "clock" | "limiter">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
    const decoded = match ? Buffer.from(match[1]!, "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new TesseraError("unauthorized_credentials");
    c.set("project", await authenticateProjectSecret(deps, decoded.slice(0, colon), decoded.slice(colon + 1)));
    c.set("client", { ...c.get("client"), throttleIp: vouchedEndUserIp(c.req.header(END_USER_IP_HEADER)) });
    await next();
  };
}
