import { isIPv4, isIPv6 } from 'node:net';

/**
 * The one spelling of a client address (SPEC §9), for per-address limits and the audit trail:
 * IPv4 as dotted quad; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, `::ffff:102:304`) as that IPv4
 * address; any other IPv6 address in RFC 5952 form (lower case, no leading zeros, the longest run
 * of two or more zero groups as `::`), without a zone id. Anything else is returned trimmed and
 * lower-cased, so it can never alias a real address.
 */
export function canonicalAddress(raw: string | undefined | null): string {
  const address = (raw ?? '').trim().toLowerCase();
  if (address === '') return 'unknown';
  if (isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  if (isIPv4Mapped(groups)) return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  return formatIPv6(groups);
}

/**
 * The key a per-address limiter counts under: the canonical IPv4 address, or the IPv6 network of the
 * first `ipv6Prefix` bits (`2001:db8:1:2::/64`). One host of IPv6 usually holds a whole /64, so
 * counting single addresses would give each client 2^64 allowances.
 */
export function addressLimitKey(raw: string | undefined | null, ipv6Prefix: number): string {
  const canonical = canonicalAddress(raw);
  const groups = ipv6Groups(canonical);
  if (!groups) return canonical;
  const masked = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Prefix - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${formatIPv6(masked)}/${ipv6Prefix}`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split('%')[0];
  if (!isIPv6(bare)) return undefined;
  let text = bare;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) is two groups written in decimal.
  if (isIPv4(last)) {
    const [a, b, c, d] = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const missing = 8 - left.length - right.length;
  if (rest === undefined && missing !== 0) return undefined;
  const groups = [...left, ...new Array<number>(Math.max(0, missing)).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

function isIPv4Mapped(g: number[]): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

/** RFC 5952 §4: lower-case hex without leading zeros, the first longest run of ≥ 2 zero groups as `::`. */
export function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
