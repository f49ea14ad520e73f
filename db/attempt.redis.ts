/**
 * Sign-in attempts in Redis: SET NX PX to store, GETDEL (Redis >= 6.2) to take, so two nodes racing
 * on one attempt cannot both get it.
 */
import { Redis } from 'ioredis';
import { check } from './attempt.memory.ts';
import { ATTEMPT_KEY, AttemptKeyError, type AttemptStore } from './attempt.port.ts';
import { pingConnected } from './redis.ping.ts';

export interface RedisAttemptStoreOptions {
  /** Prefix of every key. Default 'attempt:'. */
  prefix?: string;
  /** Connection errors (open() only). Default: ignored; commands fail on their own. */
  onError?: (err: Error) => void;
}

export class RedisAttemptStore implements AttemptStore {
  readonly #prefix: string;
  #owned = false;

  private readonly redis: Redis;

  /** Uses a client the caller owns: close() leaves it open. */
  constructor(
    redis: Redis,
    options: RedisAttemptStoreOptions = {},
  ) {
    this.redis = redis;
    this.#prefix = options.prefix ?? 'attempt:';
  }

  /** Connects to `url` with a client of its own, which close() quits. */
  static open(url: string, options: RedisAttemptStoreOptions = {}): RedisAttemptStore {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
    redis.on('error', options.onError ?? (() => {}));
    const store = new RedisAttemptStore(redis, options);
    store.#owned = true;
    return store;
  }

  async put(key: string, value: unknown, ttlMs: number): Promise<void> {
    check(key, ttlMs);
    const ok = await this.redis.set(this.#prefix + key, JSON.stringify(value), 'PX', ttlMs, 'NX');
    if (ok !== 'OK') throw new AttemptKeyError('attempt key already exists');
  }

  async take<T>(key: string): Promise<T | null> {
    if (typeof key !== 'string' || !ATTEMPT_KEY.test(key)) return null;
    const raw = await this.redis.getdel(this.#prefix + key);
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return null;
    }
  }

  async ping(): Promise<void> {
    await pingConnected(this.redis);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
