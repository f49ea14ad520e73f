/** Idempotency keys in process memory, for the embedded default (one process, nothing shared). */
import type { IdempotencyStore } from './idempotency.port.ts';

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #keys = new Map<string, number>();

  async has(key: string): Promise<boolean> {
    const until = this.#keys.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#keys.delete(key);
    return false;
  }

  async mark(key: string, ttlMs: number): Promise<boolean> {
    const fresh = !(await this.has(key));
    if (fresh) {
      this.#keys.set(key, Date.now() + ttlMs);
      // Bounded without a timer per key: sweep expired keys once the map grows.
      if (this.#keys.size > 100_000) this.#sweep();
    }
    return fresh;
  }

  async close(): Promise<void> {}

  #sweep(): void {
    const now = Date.now();
    for (const [k, until] of this.#keys) if (until <= now) this.#keys.delete(k);
  }
}
