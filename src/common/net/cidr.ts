import { isIPv4, isIPv6 } from 'node:net';
import { formatIPv6 as formatIPv6Groups } from './client-address';

/**
 * CIDR parsing and matching for per-key address allowlists (SPEC §12). Pure: no I/O, no Node
 * socket types, so it is property-tested on its own (cidr.property.spec.ts).
 *
 * Addresses are held as bigints of their width (32 or 128 bits). An IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`) is its IPv4 address, and a mapped range (`::ffff:10.0.0.0/104`) is the IPv4
 * range it maps, so one client is one address however its socket reports it.
 */
export interface Cidr {
  version: 4 | 6;
  /** Network address (host bits zero). */
  network: bigint;
  prefix: number;
}

export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

const WIDTH = { 4: 32, 6: 128 } as const;
const MAPPED_PREFIX = 0xffffn << 32n;
const MAPPED_MASK = ((1n << 96n) - 1n) << 32n;

function parseIPv4(text: string): bigint | null {
  if (!isIPv4(text)) return null;
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseIPv6(text: string): bigint | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(missing).fill('0'), ...rightGroups];
  if (groups.length !== 8) return null;
  let value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** An address as IPv4 or IPv6; an IPv4-mapped IPv6 address answers as its IPv4 address. */
export function parseIp(text: unknown): IpAddress | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 45) return null;
  const v4 = parseIPv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIPv6(text);
  if (v6 === null) return null;
  if ((v6 & MAPPED_MASK) === MAPPED_PREFIX) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

function mask(version: 4 | 6, prefix: number): bigint {
  const width = WIDTH[version];
  return prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
}

/**
 * `a.b.c.d/n`, `x:y::z/n`, or a bare address (a single host: /32 or /128). Host bits are cleared
 * (`10.1.2.3/8` is `10.0.0.0/8`); a mapped IPv6 range of /96 or longer becomes the IPv4 range.
 * Anything else (garbage, zone ids, a prefix out of range, leading zeros or signs) is null.
 */
export function parseCidr(text: unknown): Cidr | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 49) return null;
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
  const v4 = parseIPv4(addressText);
  const v6 = v4 === null ? parseIPv6(addressText) : null;
  if (v4 === null && v6 === null) return null;
  let version: 4 | 6 = v4 !== null ? 4 : 6;
  let value = v4 ?? v6!;
  let prefix = prefixText === undefined ? WIDTH[version] : Number(prefixText);
  if (prefix > WIDTH[version]) return null;
  if (version === 6 && prefix >= 96 && (value & MAPPED_MASK) === MAPPED_PREFIX) {
    version = 4;
    value &= 0xffffffffn;
    prefix -= 96;
  }
  return { version, network: value & mask(version, prefix), prefix };
}

export function contains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.version === ip.version && (ip.value & mask(cidr.version, cidr.prefix)) === cidr.network;
}

/** True when every address of `inner` is in `outer`. */
export function within(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.version === outer.version && inner.prefix >= outer.prefix && (inner.network & mask(outer.version, outer.prefix)) === outer.network
  );
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952 spelling of a 128-bit address, by the one formatter of client addresses. */
function formatIPv6(value: bigint): string {
  return formatIPv6Groups(Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn)));
}

/** The one spelling of a range: what is stored, answered and compared. */
export function formatCidr(cidr: Cidr): string {
  return `${cidr.version === 4 ? formatIPv4(cidr.network) : formatIPv6(cidr.network)}/${cidr.prefix}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.version === 4 ? formatIPv4(ip.value) : formatIPv6(ip.value);
}

/** True when `ip` (as text, e.g. `req.ip`) falls in any of `cidrs`; an unparsable address matches nothing. */
export function allowedBy(cidrs: readonly Cidr[], ipText: unknown): boolean {
  const ip = parseIp(ipText);
  return ip !== null && cidrs.some((c) => contains(c, ip));
}
