import type { z } from "@hono/zod-openapi";
import { ErrorWire } from "../wire.js";

/** Pieces every route definition shares, so each route file says only what is its own. */

export const secured = { security: [{ projectSecret: [] }] };

export function jsonRequest<T extends z.ZodType>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } };
}

const errorContent = { content: { "application/json": { schema: ErrorWire } } };

export function ok<T extends z.ZodType>(schema: T) {
  return {
    200: { description: "Success", content: { "application/json": { schema } } },
    400: { description: "Invalid request", ...errorContent },
    401: { description: "Missing or wrong credentials", ...errorContent },
    404: { description: "Not found", ...errorContent },
    429: { description: "Too many requests", ...errorContent },
  };
}
