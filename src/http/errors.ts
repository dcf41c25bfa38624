import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TesseraError, type ErrorType } from "../errors.js";
import { DatabaseUnavailableError, type Logger } from "../domain/ports.js";
import type { AppEnv } from "./context.js";

export const ERROR_URL = "https://stytch.com/docs/api/errors";

export function errorBody(requestId: string | undefined, error: TesseraError) {
  return {
    status_code: error.status,
    request_id: requestId ?? "",
    error_type: error.type,
    error_message: error.message,
    error_url: `${ERROR_URL}/${error.status}#${error.type}`,
    ...(error.details ? { error_details: error.details } : {}),
  };
}

export function errorResponse(c: Context<AppEnv>, error: TesseraError): Response {
  if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
  return c.json(errorBody(c.get("requestId"), error), error.status as ContentfulStatusCode);
}

const httpExceptionTypes: Record<number, ErrorType> = { 400: "bad_request", 401: "unauthorized_credentials", 404: "not_found", 413: "payload_too_large", 429: "too_many_requests" };

/**
 * The only translator from thrown errors to the coded error a client sees: coded errors stay as they
 * are; a database that cannot answer (the store says so) is a 503 (fail closed: never a guess about a
 * session that could not be checked); anything else is logged, and is a 503 when the database does
 * not answer a probe either, else a 500 with no detail.
 */
export function createErrorTranslator(logger: Logger, databaseAnswers: () => Promise<boolean>) {
  return async (error: unknown, requestId: string | undefined): Promise<TesseraError> => {
    if (error instanceof TesseraError) {
      if (error.status >= 500) logger.error({ err: error, request_id: requestId }, "service error");
      return error;
    }
    if (error instanceof DatabaseUnavailableError) {
      // Only the message: a driver error's text can carry the query's parameters (emails, token hashes).
      logger.warn({ request_id: requestId, reason: error.message }, "database unavailable");
      return new TesseraError("service_unavailable", { cause: error, retryAfterSeconds: 1 });
    }
    if (error instanceof HTTPException && error.status < 500) return new TesseraError(httpExceptionTypes[error.status] ?? "bad_request", { cause: error });
    if (!(await databaseAnswers())) {
      logger.error({ err: error, request_id: requestId }, "database unavailable");
      return new TesseraError("service_unavailable", { cause: error });
    }
    logger.error({ err: error, request_id: requestId }, "unhandled error");
    return new TesseraError("internal_server_error", { cause: error });
  };
}

/** Hono's onError: every thrown error becomes the Stytch error shape. */
export function createErrorHandler(logger: Logger, databaseAnswers: () => Promise<boolean>) {
  const translate = createErrorTranslator(logger, databaseAnswers);
  return async (error: Error, c: Context<AppEnv>): Promise<Response> => errorResponse(c, await translate(error, c.get("requestId")));
}
