import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../domain/ports.js";
import { TesseraError } from "../errors.js";
import type { Metrics } from "../metrics/metrics.js";
import { clientContextOf, type AppEnv } from "./context.js";
import { closeConnectionIfDue, type DrainSignal } from "./drain.js";
import { mustNotBeStored, NO_STORE } from "./no-store.js";
import { setResponseHeader } from "./node-io.js";
import { requestRecorder } from "./request-metrics.js";
import { SECURITY_HEADERS, setStaticHeaders } from "./static-headers.js";

export interface FrameDeps {
  logger: Logger;
  metrics: Pick<Metrics, "observeRequest" | "countExchange" | "countLogin">;
  drain: DrainSignal;
  trustProxyHeader: string | undefined;
}

/**
 * What every request of the public listener gets around its route, in one middleware: a request id
 * and a log line, the fixed headers, the client's address, the connection policy and the metrics.
 * As six Hono middlewares they cost a dispatch and an awaited promise each, around every request;
 * each rule stays a plain function in its own module.
 */
export function requestFrame(deps: FrameDeps): MiddlewareHandler<AppEnv> {
  const record = requestRecorder(deps.metrics);
  return async (c, next) => {
    const started = performance.now();
    const requestId = `request-id-${randomUUID()}`;
    c.set("requestId", requestId);
    setResponseHeader(c, "X-Request-Id", requestId);
    setStaticHeaders(c, SECURITY_HEADERS);
    if (mustNotBeStored(c.req.path)) setStaticHeaders(c, NO_STORE);
    c.set("client", clientContextOf(c, deps.trustProxyHeader));
    try {
      await next();
    } catch (error) {
      // Only the not-found handler's error passes through middlewares; app.onError answers it after us.
      record(c, started, error instanceof TesseraError ? error.status : 500, error);
      throw error;
    }
    closeConnectionIfDue(c, deps.drain);
    deps.logger.info({ request_id: requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, "request");
    record(c, started, c.res.status, c.error);
  };
}
