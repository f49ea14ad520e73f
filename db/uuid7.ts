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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes are fetched in blocks: one system call for many ids. */
const POOL_IDS = 256;
const MAX_TIMESTAMP = 2 ** 48 - 1;

/** Creates a generator of version 7 UUIDs in lower-case 8-4-4-4-12 form, each greater than the last. */
export function createUuid7(options: Uuid7Options = {}): () => string {
  const now = options.now ?? Date.now;
  const random = options.random ?? ((bytes: Uint8Array) => void randomFillSync(bytes));
  const pool = new Uint8Array(POOL_IDS * 10);
  let used = pool.length;
  let lastMs = -1;
  let counter = 0;
  const bytes = new Uint8Array(16);

  return function uuid7(): string {
    if (used === pool.length) {
      random(pool);
      used = 0;
    }
    const r = pool.subarray(used, used + 10);
    used += 10;

    const clock = Math.floor(now());
    if (clock > lastMs) {
      lastMs = clock;
      // The lower half: at least 2,048 more ids fit in this millisecond before it runs ahead.
      counter = ((r[0]! << 8) | r[1]!) & 0x7ff;
    } else if (counter < 0xfff) {
      counter++;
    } else {
      lastMs++;
      counter = ((r[0]! << 8) | r[1]!) & 0x7ff;
    }
    if (lastMs > MAX_TIMESTAMP || lastMs < 0) throw new RangeError(`uuid7: time ${lastMs} ms is outside 48 bits`);

    // 48-bit big-endian milliseconds; split because JavaScript's bit operators stop at 32 bits.
    const high = Math.floor(lastMs / 2 ** 16);
    bytes[0] = high >>> 24;
    bytes[1] = (high >>> 16) & 0xff;
    bytes[2] = (high >>> 8) & 0xff;
    bytes[3] = high & 0xff;
    bytes[4] = (lastMs >>> 8) & 0xff;
    bytes[5] = lastMs & 0xff;
    bytes[6] = 0x70 | (counter >>> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | (r[2]! & 0x3f);
    for (let i = 9; i < 16; i++) bytes[i] = r[i - 6]!;

    let id = '';
    for (let i = 0; i < 16; i++) {
      id += HEX[bytes[i]!]!;
      if (i === 3 || i === 5 || i === 7 || i === 9) id += '-';
    }
    return id;
  };
}

/** The process's generator of message ids. */
export const uuid7: () => string = createUuid7();

/** The millisecond timestamp a version 7 UUID carries. */
export function uuid7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
