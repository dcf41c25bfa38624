import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TesseraError, type ErrorType } from "../errors.js";
import type { Logger } from "../domain/ports.js";
import type { AppEnv } from "./context.js";

const ERROR_URL = "https://stytch.com/docs/api/errors";

export function errorBody(c: Context<AppEnv>, error: TesseraError) {
  return {
    status_code: error.status,
    request_id: c.get("requestId") ?? "",
    error_type: error.type,
    error_message: error.message,
    error_url: `${ERROR_URL}/${error.status}#${error.type}`,
    ...(error.details ? { error_details: error.details } : {}),
  };
}

export function errorResponse(c: Context<AppEnv>, error: TesseraError): Response {
  if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
  return c.json(errorBody(c, error), error.status as ContentfulStatusCode);
}

const httpExceptionTypes: Record<number, ErrorType> = { 400: "bad_request", 401: "unauthorized_credentials", 404: "not_found", 413: "payload_too_large", 429: "too_many_requests" };

/** The only translator from thrown errors to HTTP: coded errors keep their status, anything else is a logged 500. */
export function createErrorHandler(logger: Logger) {
  return (error: Error, c: Context<AppEnv>): Response => {
    if (error instanceof TesseraError) {
      if (error.status >= 500) logger.error({ err: error, request_id: c.get("requestId") }, "service error");
      return errorResponse(c, error);
    }
    if (error instanceof HTTPException && error.status < 500) {
      const type = httpExceptionTypes[error.status] ?? "bad_request";
      return errorResponse(c, new TesseraError(type, { cause: error }));
    }
    if (isDatabaseUnavailable(error)) {
      logger.error({ err: error, request_id: c.get("requestId") }, "database unavailable");
      return errorResponse(c, new TesseraError("service_unavailable", { cause: error }));
    }
    logger.error({ err: error, request_id: c.get("requestId") }, "unhandled error");
    return errorResponse(c, new TesseraError("internal_server_error", { cause: error }));
  };
}

/** Connection-level failures: fail closed with 503, never an answer about a session we could not check. */
function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT" || code === "CONNECTION_CLOSED" || code === "CONNECTION_ENDED" || code === "CONNECT_TIMEOUT" || code === "57P01" || code === "57P03") return true;
  }
  return false;
}
