import type { MiddlewareHandler } from "hono";
import { TesseraError } from "../errors.js";
import { digestsEqual, sha256Hex } from "../domain/tokens.js";

/** `Authorization: Bearer <admin key>`, the management API's one credential; compared in constant time. */
export function adminKeyAuth(adminKey: string): MiddlewareHandler {
  if (adminKey.length < 32) throw new Error("the admin key must be at least 32 characters");
  const expected = sha256Hex(adminKey);
  return async (c, next) => {
    const match = /^Bearer (\S+)$/.exec(c.req.header("authorization")?.trim() ?? "");
    if (!match || !digestsEqual(sha256Hex(match[1]!), expected)) throw new TesseraError("unauthorized_credentials", { message: "The management API needs Authorization: Bearer <admin key>." });
    await next();
  };
}
