/**
 * Time-ordered ids: UUID version 7 (RFC 9562, section 5.7). A 48-bit Unix time in milliseconds
 * leads, so ids made later sort later and inserts land at the right-hand end of an `_id` index
 * instead of at random pages of it, as version 4 ids do. Node 20's crypto makes only version 4.
 *
 * Layout: unix_ts_ms (48) | ver 0b0111 (4) | rand_a (12) | var 0b10 (2) | rand_b (62).
 * rand_a is a counter (RFC 9562 6.2, method 1) seeded at random in its lower half each
 * millisecond, so ids of one process are strictly increasing even within a millisecond: when it
 * runs out, the timestamp moves one millisecond ahead of the clock (as 6.2 allows), and a clock
 * that steps back never makes an id sort before an earlier one.
 */
import { randomFillSync } from 'node:crypto';

export interface Uuid7Options {
  /** Milliseconds since the Unix epoch. Default Date.now. */
  now?: () => number;
  /** Fills a buffer with random bytes. Default crypto's randomFillSync. */
  random?: (bytes: Uint8Array) => void;
}

/** Random bytes are fetched in blocks: one system call for many ids. */
const POOL_IDS = 256;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_TIMESTAMP = 2 ** 48 - 1;

/** Creates a generator of version 7 UUIDs in lower-case 8-4-4-4-12 form, each greater than the last. */
export function createUuid7(options: Uuid7Options = {}): () => string {
  const now = options.now ?? Date.now;
  const random = options.random ?? ((bytes: Uint8Array) => void randomFillSync(bytes));
  const pool = new Uint8Array(POOL_IDS * 10);
  let used = pool.length;
  let lastMs = -1;
  let counter = 0;
  /** "tttttttt-tttt-" of lastMs, made again only when the millisecond changes. */
  let prefix = '';
  let prefixMs = -1;

  return function uuid7(): string {
    if (used === pool.length) {
      random(pool);
      used = 0;
    }
    const r = used;
    used += 10;

    const clock = Math.floor(now());
    if (clock > lastMs) {
      lastMs = clock;
      // The lower half: at least 2,048 more ids fit in this millisecond before it runs ahead.
      counter = ((pool[r]! << 8) | pool[r + 1]!) & 0x7ff;
    } else if (counter < 0xfff) {
      counter++;
    } else {
      lastMs++;
      counter = ((pool[r]! << 8) | pool[r + 1]!) & 0x7ff;
    }
    if (lastMs > MAX_TIMESTAMP || lastMs < 0) throw new RangeError(`uuid7: time ${lastMs} ms is outside 48 bits`);

    if (prefixMs !== lastMs) {
      const t = lastMs.toString(16).padStart(12, '0');
      prefix = `${t.slice(0, 8)}-${t.slice(8)}-`;
      prefixMs = lastMs;
    }
    // ver 0111 | counter (12 bits); var 10 | 14 random bits; 48 random bits.
    const variant = 0x8000 | (((pool[r + 2]! << 8) | pool[r + 3]!) & 0x3fff);
    let tail = '';
    for (let i = r + 4; i < r + 10; i++) tail += HEX[pool[i]!]!;
    return `${prefix}${(0x7000 | counter).toString(16)}-${variant.toString(16)}-${tail}`;
  };
}

/** The process's generator of message ids. */
export const uuid7: () => string = createUuid7();

/** The millisecond timestamp a version 7 UUID carries. */
export function uuid7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
