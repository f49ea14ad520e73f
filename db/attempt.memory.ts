/**
 * Sign-in attempts in a Map, for the embedded default (one process). Expired entries are swept so
 * abandoned attempts do not accumulate.
 */
import { systemScheduler, type Clock } from './clock.ts';
import { ATTEMPT_KEY, AttemptKeyError, type AttemptStore } from './attempt.port.ts';

export class MemoryAttemptStore implements AttemptStore {
  readonly #entries = new Map<string, { json: string; expiresAt: number }>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #clock: Clock;

  /**
   * `sweepIntervalMs`: how often expired attempts are dropped; default 60 000 ms.
   * `clock`: what decides expiry; default the real clock.
   */
  constructor(options: { sweepIntervalMs?: number; clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemScheduler;
    this.#sweeper = setInterval(() => {
      const now = this.#clock.now();
      for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    }, options.sweepIntervalMs ?? 60_000);
    this.#sweeper.unref();
  }

  async put(key: string, value: unknown, ttlMs: number): Promise<void> {
    check(key, ttlMs);
    const existing = this.#entries.get(key);
    if (existing && existing.expiresAt > this.#clock.now()) throw new AttemptKeyError('attempt key already exists');
    // Stored as JSON so callers get a copy and the two stores behave the same.
    this.#entries.set(key, { json: JSON.stringify(value), expiresAt: this.#clock.now() + ttlMs });
  }

  async take<T>(key: string): Promise<T | null> {
    if (typeof key !== 'string' || !ATTEMPT_KEY.test(key)) return null;
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    if (!entry || entry.expiresAt <= this.#clock.now()) return null;
    return JSON.parse(entry.json) as T;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }
}

export function check(key: string, ttlMs: number): void {
  if (!ATTEMPT_KEY.test(key)) throw new AttemptKeyError('malformed attempt key');
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new AttemptKeyError(`ttlMs must be a positive integer, got ${ttlMs}`);
}
