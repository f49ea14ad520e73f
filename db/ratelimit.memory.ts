/**
 * Attempt counters in a Map, for the embedded default (one process). Counters of ended windows
 * are swept as the clock moves, without a timer.
 */
import { systemScheduler, type Clock } from './clock.ts';
import { checkHit, verdict, type RateLimitStore, type RateLimitVerdict } from './ratelimit.port.ts';

export interface MemoryRateLimitOptions {
  /** The time windows are counted by (db/clock.ts). Default: the system clock. */
  clock?: Clock;
}

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #clock: Clock;
  /** key -> the window's end and its count. */
  readonly #counters = new Map<string, { until: number; count: number }>();
  #nextSweep = 0;

  constructor(options: MemoryRateLimitOptions = {}) {
    this.#clock = options.clock ?? systemScheduler;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitVerdict> {
    checkHit(key, limit, windowMs);
    const now = this.#clock.now();
    this.#sweep(now);
    const v = verdict(0, limit, windowMs, now);
    const until = now + v.retryAfterMs;
    const name = `${key}:${windowMs}`;
    const counter = this.#counters.get(name);
    const count = counter && counter.until === until ? ++counter.count : 1;
    if (count === 1) this.#counters.set(name, { until, count });
    return verdict(count, limit, windowMs, now);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#counters.clear();
  }

  /** Drops ended windows, at most once a minute of clock time. */
  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 60_000;
    for (const [k, c] of this.#counters) if (c.until <= now) this.#counters.delete(k);
  }
}
