import { request, type Agent } from "node:http";

/**
 * What one request to a server that may be shutting down got, told apart the way a client sees it:
 * an answer, a port that was closing, an idle keep-alive socket the server closed, or a cut.
 */
export type Outcome = { path: string; sentAt: number } & (
  | { kind: "response"; status: number; connection: string | undefined; endedAt: number; requestId: string | undefined; body: string }
  /** The port was closed (refused, or reset by the kernel while the listener closed): never accepted. */
  | { kind: "refused" }
  /** A reused keep-alive socket closed before any byte of an answer; the server log shows whether it was handled. */
  | { kind: "idle-closed" }
  /** Anything else: an answer cut short or incomplete. */
  | { kind: "cut"; error: string }
);

/** One request; timestamps are Date.now(), comparable with the server's log times. */
export function send(agent: Agent | false, url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Outcome> {
  const sentAt = Date.now();
  const route = path.startsWith("/v1/sessions/jwks/") ? "/v1/sessions/jwks" : path;
  return new Promise((done) => {
    const resolve = (outcome: Record<string, unknown>) => done({ path: route, sentAt, ...outcome } as Outcome);
    let answered = false;
    const req = request(new URL(path, url), { method, agent, headers }, (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        // a complete JSON answer parses (a 304 is empty)
        const requestId = res.headers["x-request-id"] as string | undefined;
        const json = !res.headers["content-type"] || res.headers["content-type"].startsWith("application/json");
        if (res.statusCode !== 304 && json) {
          try {
            JSON.parse(text);
          } catch {
            return resolve({ kind: "cut", error: `incomplete body (${text.length} bytes)` });
          }
        }
        resolve({ kind: "response", status: res.statusCode!, connection: res.headers.connection, endedAt: Date.now(), requestId, body: text });
      });
      res.on("aborted", () => resolve({ kind: "cut", error: "response aborted" }));
      res.on("error", (error) => resolve({ kind: "cut", error: error.message }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (answered) return;
      const reset = error.code === "ECONNRESET" || error.message === "socket hang up";
      if (error.code === "ECONNREFUSED" || (reset && !req.reusedSocket)) resolve({ kind: "refused" });
      else if (reset) resolve({ kind: "idle-closed" });
      else resolve({ kind: "cut", error: `${error.code ?? ""} ${error.message}` });
    });
    req.end(body);
  });
}
