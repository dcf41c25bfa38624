import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../domain/ports.js";
import { TesseraError } from "../errors.js";
import type { Metrics } from "../metrics/metrics.js";
import { clientContextOf, type AppEnv } from "./context.js";
import { closeConnectionIfDue, type DrainSignal } from "./drain.js";
import { mustNotBeStored, NO_STORE } from "./no-store.js";
import { setResponseHeader } from "./node-io.js";
import { requestRecorder, routeOf } from "./request-metrics.js";
import { SECURITY_HEADERS } from "./static-headers.js";

export interface FrameDeps {
  logger: Logger;
  metrics: Pick<Metrics, "observeRequest" | "countExchange" | "countLogin">;
  drain: DrainSignal;
  trustProxyHeader: string | undefined;
}

/** A request's id, and the fixed headers every response of the public listener carries, errors included. */
export function openRequest(path: string, setHeader: (name: string, value: string) => void): { requestId: string; startedAt: number } {
  const startedAt = performance.now();
  const requestId = `request-id-${randomUUID()}`;
  setHeader("X-Request-Id", requestId);
  for (const name in SECURITY_HEADERS) setHeader(name, SECURITY_HEADERS[name]!);
  if (mustNotBeStored(path)) for (const name in NO_STORE) setHeader(name, NO_STORE[name]!);
  return { requestId, startedAt };
}

/** A finished request's log line and metrics. */
export function requestCloser(deps: FrameDeps) {
  const record = requestRecorder(deps.metrics);
  return (request: { method: string; path: string; route: string }, opened: { requestId: string; startedAt: number }, status: number, error: unknown): void => {
    deps.logger.info({ request_id: opened.requestId, method: request.method, path: request.path, status, ms: Math.round(performance.now() - opened.startedAt) }, "request");
    record(request, opened.startedAt, status, error);
  };
}

/**
 * What every request of the public listener gets around its route, in one middleware: a request id
 * and a log line, the fixed headers, the client's address, the connection policy and the metrics.
 * As six Hono middlewares they cost a dispatch and an awaited promise each, around every request;
 * each rule stays a plain function in its own module.
 */
export function requestFrame(deps: FrameDeps): MiddlewareHandler<AppEnv> {
  const record = requestRecorder(deps.metrics);
  const closeRequest = requestCloser(deps);
  return async (c, next) => {
    const opened = openRequest(c.req.path, (name, value) => setResponseHeader(c, name, value));
    c.set("requestId", opened.requestId);
    c.set("client", clientContextOf(c, deps.trustProxyHeader));
    const request = () => ({ method: c.req.method, path: c.req.path, route: routeOf(c) });
    try {
      await next();
    } catch (error) {
      // Only the not-found handler's error passes through middlewares; app.onError answers it after us.
      record(request(), opened.startedAt, error instanceof TesseraError ? error.status : 500, error);
      throw error;
    }
    closeConnectionIfDue(c, deps.drain);
    closeRequest(request(), opened, c.res.status, c.error);
  };
}
