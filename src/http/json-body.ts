import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import { nodeRequestOf } from "./node-io.js";
import { bodyLimit } from "hono/body-limit";
import { TesseraError } from "../errors.js";
import { FORBIDDEN_KEYS } from "../domain/json-objects.js";
import type { AppEnv } from "./context.js";

const JSON_TYPE = /^application\/json\s*(;|$)/i;
export const isJsonContentType = (value: string | undefined) => JSON_TYPE.test(value ?? "");
/** Deep enough for any honest payload; deeper bodies only serve to exhaust the parser or the stack. */
const MAX_DEPTH = 32;

function depthOrForbiddenKey(value: unknown, depth: number): string | null {
  if (typeof value === "string") return textProblem(value);
  if (typeof value !== "object" || value === null) return null;
  if (depth > MAX_DEPTH) return `The JSON body is nested deeper than ${MAX_DEPTH} levels.`;
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `The key "${key}" is not allowed.`;
    const keyProblem = textProblem(key);
    if (keyProblem) return keyProblem;
    const problem = depthOrForbiddenKey(child, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** Postgres cannot store NUL, and a lone surrogate would be silently replaced: refuse both up front. */
export function textProblem(text: string): string | null {
  if (text.includes("\u0000")) return "Strings must not contain NUL characters.";
  if (!text.isWellFormed()) return "Strings must be well-formed Unicode (no lone surrogates).";
  return null;
}

/** Content-Length above 0 or a Transfer-Encoding: the request says a body follows on the wire. */
export function declaresBody(headers: Headers): boolean {
  return (headers.get("content-length") ?? "0") !== "0" || headers.has("transfer-encoding");
}

/**
 * Whether the request has a body. On the wire, HTTP/1.1 (RFC 9112 §6.3) says a request without
 * Content-Length or Transfer-Encoding has none: `curl -X DELETE` and `fetch` send DELETE like that,
 * while @hono/node-server still hands Hono an (empty) body stream. A Request built in process
 * (`app.request()`) carries neither header, so there the body stream is the only sign: "undeclared".
 */
function bodyKind(request: Request): "declared" | "undeclared" | "none" {
  if (declaresBody(request.headers)) return "declared";
  if (request.headers.get("content-length") === "0" || request.body === null) return "none";
  return "undeclared";
}

/** A body that could not be read to its end: a 400, unless the reader said what was wrong (413). */
export const bodyReadFailure = (error: unknown) => (error instanceof TesseraError ? error : new TesseraError("bad_request", { message: "The request body could not be read.", cause: error }));

/** A JSON body's text as a value, or the 400 that says what is wrong with it. */
export function parseJsonText(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TesseraError("bad_request", { message: "The request body is not valid JSON." });
  }
  const problem = depthOrForbiddenKey(parsed, 0);
  if (problem) throw new TesseraError("bad_request", { message: problem });
  return parsed;
}

/**
 * Closes Hono's gaps for JSON APIs: a body limit, `application/json` required (Hono would parse
 * text/plain as JSON, which lets a cross-site form post through), malformed JSON as a 400 (Hono
 * answers 500), and prototype keys refused before any code can merge them. A body read to its end
 * is marked `bodyRead`: only then may the connection carry another request (drain.ts).
 */
export function jsonBody(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new TesseraError("payload_too_large", { message: `The request body is larger than ${options.maxBytes} bytes.` });
    },
  });
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    const incoming = nodeRequestOf(c);
    const body = incoming ? (declaresBody(c.req.raw.headers) ? "declared" : "none") : bodyKind(c.req.raw);
    // No body at all: nothing to parse; routes that need one fail their own validation.
    if (body === "none") return next();
    const isJson = isJsonContentType(c.req.header("content-type"));
    // Refused before a byte is read: a wrong type is no reason to accept 64 KB from anyone.
    if (body === "declared" && !isJson) throw new TesseraError("invalid_content_type");
    const parse = async (read: () => Promise<string>) => {
      let text: string;
      try {
        text = await read();
      } catch (error) {
        throw bodyReadFailure(error);
      }
      c.set("bodyRead", true);
      if (text === "") return next();
      if (!isJson) throw new TesseraError("invalid_content_type");
      parseJsonText(text);
      await next();
    };
    if (!incoming) return limit(c, () => parse(() => c.req.text()));
    // On the Node server the body is read straight off the socket: through Hono's Request it would
    // first become a web ReadableStream, which costs more than the exchange's own work.
    return parse(async () => {
      const text = await readLimited(incoming, options.maxBytes);
      // The route's validator reads it from Hono's cache, which holds promises (typed as values).
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
      return text;
    });
  };
}

export function readLimited(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () => new TesseraError("payload_too_large", { message: `The request body is larger than ${maxBytes} bytes.` });
  if (Number(incoming.headers["content-length"] ?? 0) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(tooLarge()); // the rest stays unread: the connection closes after the 413 (drain.ts)
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size).toString("utf8"));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted);
      incoming.pause();
    };
    const onAborted = () => onError(new Error("request aborted"));
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted);
  });
}
