import type { z } from "@hono/zod-openapi";
import { errorExample } from "../examples.js";
import { ErrorWire } from "../wire.js";

/** Pieces every route definition shares, so each route file says only what is its own. */

export const secured = { security: [{ projectSecret: [] }] };

/** A JSON body with an example typed against its schema, so the two cannot drift apart. */
export function jsonRequest<T extends z.ZodType>(schema: T, example: z.input<T>) {
  return { body: { content: { "application/json": { schema, example } }, required: true } };
}

type ErrorExample = ReturnType<typeof errorExample>;

/** An error response with named examples (Swagger UI offers them in a menu). */
export function errorContent(examples: Record<string, ErrorExample>) {
  return { content: { "application/json": { schema: ErrorWire, examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])) } } };
}

/** The 200 and the errors every backend route can answer; `notFound` says what this route's 404 is about. */
export function ok<T extends z.ZodType>(schema: T, example: z.output<T>, notFound: Record<string, ErrorExample> = { not_found: errorExample("not_found") }) {
  return {
    200: { description: "Success", content: { "application/json": { schema, example } } },
    400: { description: "Invalid request", ...errorContent({ bad_request: errorExample("bad_request", { message: "roles: Invalid input: expected array, received string" }) }) },
    401: { description: "Missing or wrong credentials", ...errorContent({ unauthorized_credentials: errorExample("unauthorized_credentials") }) },
    404: { description: "Not found", ...errorContent(notFound) },
    429: { description: "Too many requests", ...errorContent({ too_many_requests: errorExample("too_many_requests", { message: "Too many API calls with this secret; retry later." }) }) },
  };
}
