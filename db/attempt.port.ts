/**
 * Short-lived state of one sign-in attempt (a passkey challenge, an OAuth state with its PKCE
 * verifier): stored server-side with a TTL and taken at most once. `take` deletes what it returns,
 * so the first use consumes the attempt whatever its outcome. Redis (GETDEL) in the full stack,
 * a Map on the embedded default; one contract test (db/test/attempt.contract.ts).
 */
export interface AttemptStore {
  /** Stores a JSON value under `key` for `ttlMs` ms, replacing nothing: an existing key is an error. */
  put(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** The value under `key`, deleted in the same step; null when unknown, expired or already taken. */
  take<T = unknown>(key: string): Promise<T | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Keys are a short kind, a colon and base64url: nothing else reaches a store. */
export const ATTEMPT_KEY = /^[a-z]{1,16}:[A-Za-z0-9_-]{16,128}$/;

/** Thrown by `put` for a malformed key, a bad TTL or a key that already exists. */
export class AttemptKeyError extends Error {}
