import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TesseraError } from "../errors.js";
import { FORBIDDEN_KEYS } from "../domain/json-objects.js";
import type { AppEnv } from "./context.js";

const JSON_TYPE = /^application\/json\s*(;|$)/i;
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

/**
 * Closes Hono's gaps for JSON APIs: a body limit, `application/json` required (Hono would parse
 * text/plain as JSON, which lets a cross-site form post through), malformed JSON as a 400 (Hono
 * answers 500), and prototype keys refused before any code can merge them.
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
    const hasBody = c.req.raw.body !== null && c.req.header("content-length") !== "0";
    // No body at all: nothing to parse; routes that need one fail their own validation.
    if (!hasBody) return next();
    if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) throw new TesseraError("invalid_content_type");
    return limit(c, async () => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (error) {
        if (error instanceof TesseraError) throw error;
        throw new TesseraError("bad_request", { message: "The request body is not valid JSON." });
      }
      const problem = depthOrForbiddenKey(body, 0);
      if (problem) throw new TesseraError("bad_request", { message: problem });
      await next();
    });
  };
}
