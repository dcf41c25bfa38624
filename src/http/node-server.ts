import { createServer, type RequestListener, type ServerResponse } from "node:http";
import { Server as NetServer, type AddressInfo } from "node:net";

const netClose = NetServer.prototype.close;
/** How often Node looks for requests past their timeouts (its default, 30 s, would quadruple a 10 s bound). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface HttpServerOptions {
  port: number;
  host: string;
  /** Longest a client may take to send its whole request; Node answers 408 and closes. */
  requestTimeoutMs: number;
  /** Longest a client may take to send the request headers. */
  headersTimeoutMs: number;
}

export interface HttpServer {
  readonly port: number;
  /** Requests whose response has not finished yet. */
  readonly inFlight: number;
  /**
   * Stops accepting and resolves once no connection is left: idle keep-alive sockets close at once,
   * busy ones after their response (which says `Connection: close` while the app drains, drain.ts).
   * After `backstopMs` whatever is still open is cut; `cutRequests` says how many requests that cut.
   */
  close(backstopMs: number): Promise<{ cutRequests: number }>;
}

/**
 * Runs `work` once the event loop has polled for I/O again: connections waiting in the accept backlog
 * are accepted, and requests waiting in socket buffers are parsed, so they count as busy (and get an
 * answer) instead of being reset with the listener or closed as idle.
 */
const afterPendingIo = (work: () => void) => setImmediate(() => setImmediate(work));

/** Node's HTTP server around the app's request listener, bounded against slow clients. */
export async function listen(listener: RequestListener, options: HttpServerOptions): Promise<HttpServer> {
  const server = createServer(
    { requestTimeout: options.requestTimeoutMs, headersTimeout: options.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    listener,
  );
  let inFlight = 0;
  let closing = false;
  // Idle keep-alive sockets close once nothing is in flight. Every response of the drain says
  // Connection: close, so what is left idle then is a connection whose last answer came before the drain.
  const closeIdleWhenQuiet = () => {
    if (inFlight === 0) afterPendingIo(() => server.closeIdleConnections());
  };
  server.on("request", (_request, response: ServerResponse) => {
    inFlight++;
    response.once("close", () => {
      inFlight--;
      if (closing) closeIdleWhenQuiet();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    get inFlight() {
      return inFlight;
    },
    close(backstopMs) {
      closing = true;
      return new Promise((resolve) => {
        let cutRequests = 0;
        const backstop = setTimeout(() => {
          cutRequests = inFlight;
          server.closeAllConnections();
        }, backstopMs);
        afterPendingIo(() => {
          // net.Server's close, not http.Server's: that one also closes idle sockets at once (a request
          // may be on its way in them) and stops enforcing the request timeouts for the rest of the drain.
          netClose.call(server, () => {
            clearTimeout(backstop);
            resolve({ cutRequests });
          });
          closeIdleWhenQuiet();
        });
      });
    },
  };
}
