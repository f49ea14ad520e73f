/**
 * Which IP addresses a push request may connect to: public unicast only. An address is judged by
 * the IPv4 address it embeds when it has one (IPv4-mapped, IPv4-compatible, IPv4-translated,
 * NAT64, 6to4), since that is where a packet to it ends up. Cloud metadata addresses are refused
 * even where private addresses are allowed (tests, private deployments).
 */
import { isIP } from 'node:net';

type Range = readonly [base: bigint, bits: number, why: string];

/** Reasons an address is private: allowed by `allowPrivate`. */
const PRIVATE = new Set(['loopback', 'private', 'link-local', 'shared (CGNAT)', 'unique local', 'site-local', 'local-use NAT64']);

const v4 = (text: string) => text.split('.').reduce((n, part) => (n << 8n) | BigInt(part), 0n);

/** IANA's IPv4 special-purpose ranges that are not globally reachable, with multicast and reserved. */
const V4_RANGES: Range[] = [
  [v4('0.0.0.0'), 8, 'unspecified ("this network")'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('100.64.0.0'), 10, 'shared (CGNAT)'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'],
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.0.0.0'), 24, 'IETF protocol assignment'],
  [v4('192.0.2.0'), 24, 'documentation'],
  [v4('192.88.99.0'), 24, '6to4 relay anycast'],
  [v4('192.168.0.0'), 16, 'private'],
  [v4('198.18.0.0'), 15, 'benchmarking'],
  [v4('198.51.100.0'), 24, 'documentation'],
  [v4('203.0.113.0'), 24, 'documentation'],
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved or broadcast'],
];

/** Instance metadata services (AWS, GCP, Azure, ECS, EKS, Alibaba, Oracle): never a push service. */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', '100.100.100.200', '192.0.0.192'].map(v4));
const METADATA_V6 = new Set([0xfd00_0ec2n << 96n | 0x254n, 0xfd00_0ec2n << 96n | 0x23n]);

/** IPv6 ranges refused outright (after any embedded IPv4 address was judged instead). */
const V6_RANGES: Range[] = [
  [0n, 128, 'unspecified'],
  [1n, 128, 'loopback'],
  [0x0100n << 112n, 64, 'discard-only'],
  [0x0064_ff9b_0001n << 80n, 48, 'local-use NAT64'],
  [0x2001n << 112n, 23, 'IETF protocol assignment (Teredo, benchmarking, ORCHID)'],
  [0x2001_0db8n << 96n, 32, 'documentation'],
  [0x3fffn << 112n, 20, 'documentation'],
  [0xfc00n << 112n, 7, 'unique local'],
  [0xfe80n << 112n, 10, 'link-local'],
  [0xfec0n << 112n, 10, 'site-local'],
  [0xff00n << 112n, 8, 'multicast'],
];

const inRange = (value: bigint, width: number, [base, bits]: Range) => value >> BigInt(width - bits) === base >> BigInt(width - bits);

/** A valid IPv6 address (no brackets, no zone) as a 128-bit number. */
function ipv6Value(text: string): bigint {
  let s = text.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4(dotted[1]!);
    s = `${s.slice(0, dotted.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const words = (part: string | undefined) => (part ? part.split(':') : []);
  const left = words(head);
  const right = words(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((n, w) => (n << 16n) | BigInt(parseInt(w, 16)), 0n);
}

const dottedQuad = (n: bigint) => [24n, 16n, 8n, 0n].map((shift) => (n >> shift) & 0xffn).join('.');

/** The IPv4 address a packet to this IPv6 address is delivered to, if it embeds one. */
function embeddedIpv4(n: bigint): { address: string; form: string } | null {
  const low32 = n & 0xffff_ffffn;
  const high96 = n >> 32n;
  if (high96 === 0xffffn) return { address: dottedQuad(low32), form: 'IPv4-mapped' };
  if (high96 === 0xffff_0000n) return { address: dottedQuad(low32), form: 'IPv4-translated' };
  // :: and ::1 are themselves; anything else in ::/96 is the deprecated IPv4-compatible form.
  if (high96 === 0n && low32 > 1n) return { address: dottedQuad(low32), form: 'IPv4-compatible' };
  if (high96 === 0x0064_ff9b_0000_0000_0000_0000n) return { address: dottedQuad(low32), form: 'NAT64' };
  if (n >> 112n === 0x2002n) return { address: dottedQuad((n >> 80n) & 0xffff_ffffn), form: '6to4' };
  return null;
}

/**
 * Why a connection to `address` (IPv4 or IPv6 text, as DNS or a URL gives it) is refused, or null.
 * `allowPrivate` lets loopback, private, link-local and unique-local addresses through (tests and
 * private deployments); everything else not globally reachable, and cloud metadata, is refused
 * regardless.
 */
export function addressProblem(address: string, allowPrivate: boolean): string | null {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase();
  if (!isIP(text)) return `${address} is not an IP address`;
  const why = whyNotPublic(text, allowPrivate);
  return why && `${text} is not public (${why})`;
}

function whyNotPublic(text: string, allowPrivate: boolean): string | null {
  const allowed = (why: string | undefined) => (why === undefined || (allowPrivate && PRIVATE.has(why)) ? null : why);
  if (isIP(text) === 4) {
    const n = v4(text);
    return METADATA_V4.has(n) ? 'cloud metadata' : allowed(V4_RANGES.find((r) => inRange(n, 32, r))?.[2]);
  }
  const n = ipv6Value(text);
  const embedded = embeddedIpv4(n);
  if (embedded) {
    const why = whyNotPublic(embedded.address, allowPrivate);
    return why && `the ${embedded.form} form of ${embedded.address}: ${why}`;
  }
  if (METADATA_V6.has(n)) return 'cloud metadata';
  // Only global unicast (2000::/3) is routed on the internet.
  return allowed(V6_RANGES.find((r) => inRange(n, 128, r))?.[2] ?? (n >> 125n === 1n ? undefined : 'outside global unicast 2000::/3'));
}
