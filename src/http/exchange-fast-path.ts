import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { AppDeps } from "./app.js";
import { authenticateBackendCall } from "./auth.js";
import { clientContext } from "./context.js";
import { connectionMustClose } from "./drain.js";
import { END_USER_IP_HEADER } from "./end-user-ip.js";
import { createErrorTranslator, errorBody } from "./errors.js";
import { bodyReadFailure, isJsonContentType, parseJsonText, readLimited } from "./json-body.js";
import { openRequest, requestCloser } from "./request-frame.js";
import { databaseAnswers } from "./routes/ops.js";
import { exchange, ExchangeBody } from "./routes/sessions.js";
import { validationError } from "./validation.js";

const EXCHANGE_PATH = "/v1/sessions/authenticate";
const EXCHANGE = { method: "POST", path: EXCHANGE_PATH, route: EXCHANGE_PATH };
/**
 * Node keeps the first of these when a request repeats one; the web Headers Hono reads join the
 * copies (and then refuse the credential or the type). Such a request goes to Hono.
 */
const FIRST_COPY_ONLY = new Set(["authorization", "content-type", "user-agent"]);

function repeatsFirstCopyOnlyHeader(rawHeaders: string[]): boolean {
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!FIRST_COPY_ONLY.has(name)) continue;
    if (seen.has(name)) return true;
    seen.add(name);
  }
  return false;
}

function headerOf(request: IncomingMessage, lowerCaseName: string): string | undefined {
  const value = request.headers[lowerCaseName];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * The exchange, `POST /v1/sessions/authenticate`, answered on Node's request and response without
 * Hono: on the hot path, building Hono's web Request, Headers and Response and running its
 * middleware chain cost about a quarter of the exchange's CPU (README, Performance). Every rule is the
 * one the Hono stack applies, called from the same function: the request frame (id, fixed headers,
 * log line, metrics), the project secret, the body checks, the route's schema, the exchange and the
 * error translation. Only the plain case comes here; anything unusual about the request line or the
 * headers (a query string, another type, no or a too large Content-Length, chunked, a repeated
 * credential) goes to Hono untouched, which refuses it the usual way. test/http/exchange-fast-path.test.ts
 * sends the same requests both ways and compares the answers.
 */
export function withExchangeFastPath(deps: AppDeps, fallback: RequestListener): RequestListener {
  const translate = createErrorTranslator(deps.logger, databaseAnswers(deps.store));
  const closeRequest = requestCloser(deps);
  const proxyHeader = deps.trustProxyHeader?.toLowerCase();
  const endUserIpHeader = END_USER_IP_HEADER.toLowerCase();

  const takes = (request: IncomingMessage): boolean => {
    if (request.method !== "POST" || request.url !== EXCHANGE_PATH) return false;
    const { headers } = request;
    const length = Number(headers["content-length"]);
    return length > 0 && length <= deps.bodyLimitBytes && headers["transfer-encoding"] === undefined && isJsonContentType(headers["content-type"]) && !repeatsFirstCopyOnlyHeader(request.rawHeaders);
  };

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const opened = openRequest(EXCHANGE_PATH, (name, value) => response.setHeader(name, value));
    let status = 200;
    let failure: unknown;
    let bodyRead = false;
    let payload: string;
    try {
      const client = clientContext(proxyHeader ? headerOf(request, proxyHeader) : undefined, request.socket.remoteAddress, request.headers["user-agent"]);
      // Credentials before the body, as on the Hono path: a stranger is refused without a byte of it read.
      const { project, throttleIp } = await authenticateBackendCall(deps, request.headers.authorization, headerOf(request, endUserIpHeader));
      const text = await readLimited(request, deps.bodyLimitBytes).catch((error: unknown) => {
        throw bodyReadFailure(error);
      });
      bodyRead = true;
      const body = ExchangeBody.safeParse(parseJsonText(text));
      if (!body.success) throw validationError(body.error);
      payload = JSON.stringify(await exchange(deps, project, body.data, opened.requestId, { ...client, throttleIp }));
    } catch (error) {
      const coded = await translate(error, opened.requestId);
      status = coded.status;
      failure = coded;
      if (coded.retryAfterSeconds !== undefined) response.setHeader("Retry-After", String(coded.retryAfterSeconds));
      payload = JSON.stringify(errorBody(opened.requestId, coded));
    }
    if (connectionMustClose(deps.drain, !bodyRead)) response.setHeader("Connection", "close");
    response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }).end(payload);
    closeRequest(EXCHANGE, opened, status, failure);
  };

  return (request, response) => {
    if (!takes(request)) return fallback(request, response);
    answer(request, response).catch((error: unknown) => {
      // Only writing the answer can fail here (every other error became one): the connection is unusable.
      deps.logger.error({ err: error }, "exchange answer failed");
      response.destroy();
    });
  };
}
