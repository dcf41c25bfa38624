import type { z } from "@hono/zod-openapi";
import { TesseraError, type ErrorType } from "../errors.js";

/** A validation failure on these fields has a more specific Stytch error type than bad_request. */
const fieldErrorTypes: Record<string, ErrorType> = {
  session_duration_minutes: "invalid_session_duration",
  session_custom_claims: "invalid_custom_claims",
  trusted_metadata: "invalid_metadata",
  untrusted_metadata: "invalid_metadata",
  email: "invalid_email",
};

/** A request that failed its schema, as the 400 that names the first problem and where it is. */
export function validationError(error: z.ZodError): TesseraError {
  const issue = error.issues[0];
  const field = String(issue?.path[0] ?? "");
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return new TesseraError(fieldErrorTypes[field] ?? "bad_request", { message: `${where}${issue?.message ?? "invalid request"}` });
}
