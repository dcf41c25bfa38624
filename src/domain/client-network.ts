import { isIPv4, isIPv6 } from "node:net";

/**
 * The network a per-address limit counts a client under. An IPv6 subscriber is handed a whole /64
 * at the least (RFC 6177; SLAAC needs one), so counting single IPv6 addresses would give one client
 * 2^64 budgets: an IPv6 address counts as its /64, as better-auth does since its advisory GHSA-p6v2-xcpg-h6xw.
 * An IPv4 address, also written IPv4-mapped (`::ffff:198.51.100.7`, a dual-stack socket's view),
 * counts as itself. Every spelling of one network (case, leading zeros, `::`, a zone) is one key.
 */
export function addressNetwork(ip: string): string {
  const address = ip.trim().toLowerCase();
  if (isIPv4(address)) return address;
  const unzoned = address.split("%")[0]!;
  if (!isIPv6(unzoned)) return address;
  const groups = ipv6Groups(unzoned);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const parse = (part: string | undefined) =>
    (part ? part.split(":") : []).flatMap((group) => {
      if (!group.includes(".")) return [parseInt(group, 16)];
      const [a, b, c, d] = group.split(".").map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  const first = parse(head);
  const last = parse(tail);
  return tail === undefined ? first : [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

/** The key of a per-address budget within a project. */
export const perAddressKey = (projectId: string, ip: string) => `${projectId}:${addressNetwork(ip)}`;
