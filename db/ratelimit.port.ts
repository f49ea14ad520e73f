/**
 * Counters of attempts per key (a client address and what it attempts) in fixed windows of time,
 * shared by every router node when Redis is configured. Redis (INCR on a key per window) in the
 * full stack, a Map on the embedded default; one contract test (db/test/ratelimit.contract.ts).
 * Both read the time from an injected clock, so the window a hit falls in does not depend on how
 * fast the machine runs.
 */
export interface RateLimitStore {
  /**
   * Counts one attempt of `key` in the current window of `windowMs` (windows start at multiples
   * of `windowMs` on the clock) and says whether it is within `limit`.
   */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitVerdict>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RateLimitVerdict {
  /** True while this window's count, this attempt included, is at most the limit. */
  allowed: boolean;
  /** Attempts left in this window after this one (0 when refused). */
  remaining: number;
  /** Milliseconds until the window ends and attempts are allowed again. */
  retryAfterMs: number;
}

/** Keys are a short kind, a colon and an address-like token: nothing else reaches a store. */
export const RATE_LIMIT_KEY = /^[a-z]{1,16}:[0-9A-Za-z.:_-]{1,64}$/;

/** Where the window of `now` ends, and the verdict for a count in it; both stores use this. */
export function verdict(count: number, limit: number, windowMs: number, now: number): RateLimitVerdict {
  const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
  return { allowed: count <= limit, remaining: Math.max(0, limit - count), retryAfterMs: windowEnd - now };
}

/** Throws for a malformed key, limit or window (a caller's bug, never a client's input). */
export function checkHit(key: string, limit: number, windowMs: number): void {
  if (!RATE_LIMIT_KEY.test(key)) throw new RangeError('malformed rate limit key');
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) throw new RangeError(`windowMs must be a positive integer, got ${windowMs}`);
}
