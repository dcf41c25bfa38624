import { z } from "@hono/zod-openapi";
import type { UserFilter } from "../domain/ports.js";
import { TesseraError } from "../errors.js";
import { Id } from "./wire.js";

/**
 * Stytch's users.search operands → the store's filters. All 23 filter names of Stytch's API are
 * accepted, their values checked: those over what Tessera users have are real filters; those over
 * factors Tessera has none of (phones, WebAuthn, TOTP, crypto wallets, OAuth) match no user, which is
 * the truth of every Tessera user. Any other name is a 400.
 */

/**
 * Postgres timestamps have no year 0 and cannot parse the six-digit years JavaScript writes past
 * 9999 (or before year 1): such a date reaching the query would be a 500. Years 1–9999 round-trip.
 */
export const storable = (d: Date) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;

export const encodeCursor = (createdAt: Date, userId: string) => Buffer.from(JSON.stringify([createdAt.toISOString(), userId])).toString("base64url");

export function decodeCursor(cursor: string): { createdAt: Date; userId: string } {
  try {
    const [at, userId] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const createdAt = new Date(at);
    // the user id goes into the query: an id's shape (no NUL, which Postgres text cannot hold)
    if (Id.safeParse(userId).success && storable(createdAt)) return { createdAt, userId };
  } catch {
    // fall through to the coded error
  }
  throw new TesseraError("bad_request", { message: "The cursor is invalid." });
}

const strings = z.array(z.string().max(256)).min(1).max(1000);
const text = z.string().min(1).max(256);
const bool = z.boolean();
const date = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine(storable, "must be a date from year 1 to 9999");
const between = z.object({ greater_than: date, less_than: date });

const NO_SUCH_FACTOR: Record<string, z.ZodType> = {
  oauth_provider: strings,
  phone_number: strings,
  phone_id: strings,
  phone_verified: bool,
  phone_number_fuzzy: text,
  webauthn_registration_verified: bool,
  webauthn_registration_id: strings,
  crypto_wallet_id: strings,
  crypto_wallet_address: strings,
  crypto_wallet_verified: bool,
  totp_id: strings,
  totp_verified: bool,
};

const FILTERS: Record<string, (value: unknown, parse: <T>(schema: z.ZodType<T>) => T) => UserFilter> = {
  email_address: (_, parse) => ({ kind: "emails", values: parse(strings) }),
  email_address_fuzzy: (_, parse) => ({ kind: "emailFuzzy", value: parse(text) }),
  email_id: (_, parse) => ({ kind: "emailIds", values: parse(strings) }),
  email_verified: (_, parse) => ({ kind: "emailVerified", value: parse(bool) }),
  user_id: (_, parse) => ({ kind: "userIds", values: parse(strings) }),
  status: (_, parse) => ({ kind: "status", value: parse(z.enum(["active", "pending"])) }),
  created_at_greater_than: (_, parse) => ({ kind: "createdBetween", after: parse(date) }),
  created_at_less_than: (_, parse) => ({ kind: "createdBetween", before: parse(date) }),
  created_at_between: (_, parse) => {
    const range = parse(between);
    return { kind: "createdBetween", after: range.greater_than, before: range.less_than };
  },
  full_name_fuzzy: (_, parse) => ({ kind: "nameFuzzy", value: parse(text) }),
  password_exists: (_, parse) => ({ kind: "passwordExists", value: parse(bool) }),
  ...Object.fromEntries(Object.entries(NO_SUCH_FACTOR).map(([name, schema]) => [name, (_: unknown, parse: (s: z.ZodType) => unknown) => (parse(schema), { kind: "none" as const })])),
};

/** The filter names users.search accepts (README lists what each does). */
export const SEARCH_FILTER_NAMES = Object.keys(FILTERS);

export function toUserFilters(operands: { filter_name: string; filter_value?: unknown }[]): UserFilter[] {
  return operands.map(({ filter_name: name, filter_value: value }) => {
    const filter = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!filter) throw new TesseraError("bad_request", { message: `Unsupported filter_name: ${name.slice(0, 64)}.` });
    return filter(value, (schema) => {
      const result = schema.safeParse(value);
      if (!result.success) throw new TesseraError("bad_request", { message: `Invalid filter_value for ${name}.` });
      return result.data;
    });
  });
}
