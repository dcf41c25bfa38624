import { isIP } from "node:net";
import { TesseraError } from "../errors.js";

/**
 * The end user's address as the app's backend saw it. Backend calls all come from the backend's own
 * address, so the per-IP login limit counts only an address the backend vouches for with this
 * header, and only on routes authenticated by the project secret (a browser could send it too).
 * A dedicated header rather than X-Forwarded-For: proxies append to that one, so which entry the
 * backend meant would be a guess. Without it there is no per-IP limit on backend logins; the
 * per-email lockout applies all the same.
 */
export const END_USER_IP_HEADER = "Tessera-End-User-IP";

/** One IPv4 or IPv6 address, or undefined when the header is absent; anything else is the backend's bug: a 400. */
export function vouchedEndUserIp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ip = value.trim();
  if (isIP(ip) === 0) throw new TesseraError("bad_request", { message: `${END_USER_IP_HEADER} must be one IPv4 or IPv6 address.` });
  return ip.toLowerCase();
}
