/**
 * Who is on the other end of a request. The socket's peer, unless that peer is a reverse proxy
 * listed in TRUST_PROXY: then X-Forwarded-For is read from the right, skipping trusted proxies,
 * and the first address no trusted proxy vouches for is the client. Entries left of it were
 * written by the client itself and are never believed, so a forged header cannot buy a fresh
 * address (and with it a fresh sign-in budget). Nobody is trusted by default.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** An IPv4-mapped IPv6 address as the IPv4 address it carries; anything else unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

/** An X-Forwarded-For entry as a bare address ("[::1]:443" and "1.2.3.4:80" lose their port), or null. */
function entryAddress(entry: string): string | null {
  const bare = /^\[([^\]]+)\](?::\d+)?$/.exec(entry)?.[1] ?? /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry)?.[1] ?? entry;
  return isIP(bare) ? unmapped(bare) : null;
}

export class ClientAddresses {
  readonly #trusted = new BlockList();
  readonly #trustsAnyone: boolean;

  /** `trustProxy`: IP addresses and CIDR ranges (validated by the config). */
  constructor(trustProxy: readonly string[]) {
    for (const entry of trustProxy) {
      const [address, bits] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#trusted.addAddress(address, type);
      else this.#trusted.addSubnet(address, Number(bits), type);
    }
    this.#trustsAnyone = trustProxy.length > 0;
  }

  /** The client address of `req` (see the module comment); "unknown" for a socket already gone. */
  of(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress;
    if (!peer) return 'unknown';
    let client = unmapped(peer);
    if (!this.#trustsAnyone || !this.#trusts(client)) return client;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((s) => s.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      if (hops[i] === '') continue;
      const hop = entryAddress(hops[i]!);
      // Garbage from a trusted proxy: the proxy that passed it on is the best we know.
      if (hop === null) return client;
      client = hop;
      if (!this.#trusts(hop)) return hop;
    }
    return client;
  }

  #trusts(address: string): boolean {
    return this.#trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The key a per-address limit counts under: an IPv4 address as is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single addresses would give them 2^64
 * budgets).
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${ipv6Groups(address).slice(0, 4).map((g) => g.toString(16)).join(':')}::`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, "::" and a dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let s = address.split('%')[0]!;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16));
}
