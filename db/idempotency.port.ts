/**
 * Idempotency keys: a record that an effect (a notification sent, a digest mailed) has happened,
 * so a redelivered or duplicated task does not repeat it. Redis (idempotency.redis.ts) on the full
 * stack, memory (idempotency.memory.ts) on the embedded default; one contract test for both.
 */
export interface IdempotencyStore {
  /** True when `key` was marked and has not expired. */
  has(key: string): Promise<boolean>;
  /** Marks `key` for `ttlMs`; true when it was not marked before (SET NX semantics). */
  mark(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}
