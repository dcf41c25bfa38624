import { TesseraError, type ErrorType } from "../errors.js";

/** Keys that would reach Object.prototype through a naive merge; refused anywhere in caller JSON. */
export const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface JsonLimits {
  maxBytes: number;
  maxDepth: number;
}

/** Throws `errorType` unless `value` is a plain JSON object within the limits and free of forbidden keys. */
export function assertJsonObject(value: unknown, limits: JsonLimits, errorType: ErrorType, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TesseraError(errorType, { message: `${what} must be a JSON object.` });
  }
  const problem = findProblem(value, limits.maxDepth);
  if (problem) throw new TesseraError(errorType, { message: `${what}: ${problem}` });
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > limits.maxBytes) {
    throw new TesseraError(errorType, { message: `${what} are ${bytes} bytes as JSON; the limit is ${limits.maxBytes}.` });
  }
}

function findProblem(value: unknown, depthLeft: number): string | null {
  if (typeof value !== "object" || value === null) return null;
  if (depthLeft <= 0) return "nested too deeply.";
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `the key "${key}" is not allowed.`;
    const problem = findProblem(child, depthLeft - 1);
    if (problem) return problem;
  }
  return null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Stytch's update semantics: keys in `patch` overwrite, nested objects merge, `null` deletes.
 * Builds fresh objects and skips forbidden keys, so no input can reach a prototype.
 */
export function mergeDeletingNulls(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) if (!FORBIDDEN_KEYS.has(key)) out[key] = value;
  for (const [key, value] of Object.entries(patch)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergeDeletingNulls(out[key] as Record<string, unknown>, value);
    else out[key] = isPlainObject(value) ? mergeDeletingNulls({}, value) : value;
  }
  return out;
}
