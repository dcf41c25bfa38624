import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  body: Record<string, unknown> | null;
}

/** A network failure (reset, refused, timeout): recorded under its code, not as a status. */
export class NetworkError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const TIMEOUT_MS = 10_000;

/**
 * JSON POSTs over node:http with keep-alive. Not fetch: on two shared cores the load generator
 * competes with the servers it measures, and node:http's client does less work per request than
 * fetch's (no WHATWG streams, Headers or Request objects).
 */
export function createClient(authorization: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  function post(baseUrl: string, path: string, payload: unknown): Promise<Reply> {
    const url = new URL(path, baseUrl);
    const body = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: "POST", agent, headers: { authorization, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error: NodeJS.ErrnoException) => reject(new NetworkError(error.code ?? "response_error")));
          res.on("end", () => {
            let parsed: Record<string, unknown> | null = null;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
              // a non-JSON body is reported through its status
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
      req.on("error", (error: NodeJS.ErrnoException) => reject(new NetworkError(error.code ?? "request_error")));
      req.end(body);
    });
  }
  return { post, close: () => agent.destroy() };
}

export type Client = ReturnType<typeof createClient>;
