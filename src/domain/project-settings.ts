import { z } from "zod";
import { TesseraError } from "../errors.js";
import type { ProjectSettings } from "./types.js";

export const SESSION_DURATION_MINUTES = { min: 5, max: 527_040 } as const;

/**
 * Every project setting with its allowed values: one source for the management API, the CLI and the
 * README. A change is validated whole, so a bad value names the setting and its range and changes nothing.
 */
const int = (min: number, max: number, unit: string) => {
  const error = `must be an integer from ${min} to ${max} (${unit})`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const orNull = <T extends z.ZodType>(schema: T, what: string) => z.union([schema, z.null()], { error: `must be ${what}, or null for none` });
const bool = z.boolean({ error: "must be true or false" });

/** An origin exactly as browsers send it: scheme, host, optional port; no path, no trailing slash. */
const origin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "https:" || url.protocol === "http:") && url.origin === value;
    } catch {
      return false;
    }
  },
  { error: "must be origins like https://app.example.com (scheme and host, optional port, no path or trailing slash)" },
);
const cookieDomain = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, { error: "must be a domain name such as example.com (no scheme, no leading dot)" });

const MINUTES = `${SESSION_DURATION_MINUTES.min} to ${SESSION_DURATION_MINUTES.max}`;
export const rateLimitSettingsSchema = z.strictObject({
  loginFailuresPerEmail: int(1, 1_000_000, "failed logins per email within the window before a lockout"),
  loginFailureWindowSeconds: int(60, 86_400, "seconds"),
  lockoutSeconds: int(1, 86_400, "seconds, first lockout"),
  maxLockoutSeconds: int(1, 604_800, "seconds"),
  loginAttemptsPerIpPerMinute: int(1, 1_000_000, "logins per end-user address per minute"),
  signUpsPerIpPerHour: int(1, 1_000_000, "browser sign-ups per end-user address per hour"),
  signUpsPerProjectPerMinute: int(1, 1_000_000, "browser sign-ups per project per minute"),
  exchangesPerSessionPerMinute: int(1, 1_000_000, "exchanges per session per minute"),
  apiCallsPerSecretPerMinute: int(1, 100_000_000, "backend API calls per secret per minute"),
});

const settingsShape = z.strictObject({
    defaultSessionDurationMinutes: int(SESSION_DURATION_MINUTES.min, SESSION_DURATION_MINUTES.max, "minutes"),
    maxSessionDurationMinutes: int(SESSION_DURATION_MINUTES.min, SESSION_DURATION_MINUTES.max, "minutes"),
    idleTimeoutMinutes: orNull(int(1, SESSION_DURATION_MINUTES.max, "minutes"), `an integer from 1 to ${SESSION_DURATION_MINUTES.max} (minutes)`),
    absoluteLifetimeMinutes: orNull(int(SESSION_DURATION_MINUTES.min, SESSION_DURATION_MINUTES.max, "minutes"), `an integer from ${MINUTES} (minutes)`),
    jwtLifetimeSeconds: int(1, 3600, "seconds; below 60 only for tests"),
    jwtAlgorithm: z.enum(["RS256", "ES256", "EdDSA"], { error: "must be RS256, ES256 or EdDSA" }),
    keyRotationIntervalDays: int(1, 365, "days"),
    issuerFormat: z.enum(["stytch", "public_url"], { error: 'must be "stytch" (iss = stytch.com/<project_id>) or "public_url" (iss = PUBLIC_URL)' }),
    allowedOrigins: z.array(origin, { error: "must be a list of origins" }).max(100, { error: "must list at most 100 origins" }),
    cookieDomain: orNull(cookieDomain, "a domain name such as example.com"),
    exposeJwtToScripts: bool,
    selfSignUp: bool,
    rateLimits: rateLimitSettingsSchema,
});

export const projectSettingsSchema = settingsShape.superRefine((s, ctx) => {
    if (s.maxSessionDurationMinutes < s.defaultSessionDurationMinutes) {
      ctx.addIssue({ code: "custom", path: ["maxSessionDurationMinutes"], message: `must be at least defaultSessionDurationMinutes (${s.defaultSessionDurationMinutes})` });
    }
    if (s.rateLimits.maxLockoutSeconds < s.rateLimits.lockoutSeconds) {
      ctx.addIssue({ code: "custom", path: ["rateLimits", "maxLockoutSeconds"], message: `must be at least rateLimits.lockoutSeconds (${s.rateLimits.lockoutSeconds})` });
    }
  });

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** `patch` over `current`, nested objects merged key by key (so `{rateLimits: {lockoutSeconds: 30}}` keeps the other limits). */
function merge(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) merged[key] = isPlainObject(value) && isPlainObject(current[key]) ? merge(current[key], value) : value;
  return merged;
}

function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (isPlainObject(before) && isPlainObject(after)) return Object.keys(after).flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

/** Validates `patch` applied to `current`; `invalid_setting` names every bad setting with its allowed values. */
export function applySettingsPatch(current: ProjectSettings, patch: unknown): { settings: ProjectSettings; changed: string[] } {
  if (!isPlainObject(patch)) throw new TesseraError("invalid_setting", { message: "settings must be an object of setting names and values" });
  const parsed = projectSettingsSchema.safeParse(merge(current as unknown as Record<string, unknown>, patch));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join(".");
      if (issue.code === "unrecognized_keys") return `unknown setting${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => (name ? `${name}.${k}` : k)).join(", ")}`;
      return `${name} ${issue.message}`;
    });
    throw new TesseraError("invalid_setting", { message: problems.join("; "), details: { settings: problems } });
  }
  return { settings: parsed.data, changed: changedPaths(current, parsed.data) };
}

/** Every setting's dotted name, for help texts and the README. */
export const SETTING_NAMES: readonly string[] = [
  ...Object.keys(settingsShape.shape).filter((k) => k !== "rateLimits"),
  ...Object.keys(rateLimitSettingsSchema.shape).map((k) => `rateLimits.${k}`),
];
