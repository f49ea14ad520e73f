/** Idempotency keys in Redis (SET NX PX), shared by every worker process. */
import { Redis } from 'ioredis';
import type { IdempotencyStore } from './idempotency.port.ts';

export interface RedisIdempotencyOptions {
  /** Prefix of every key. Default 'idem:'. */
  prefix?: string;
  /** Connection errors (commands fail on their own too). Default: ignore. */
  onError?: (err: Error) => void;
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #prefix: string;

  private readonly redis: Redis;
  private readonly owned: boolean;

  constructor(
    redis: Redis,
    options: RedisIdempotencyOptions = {},
    owned: boolean = false,
  ) {
    this.redis = redis;
    this.owned = owned;
    this.#prefix = options.prefix ?? 'idem:';
  }

  /** Opens its own connection, closed by close(). */
  static open(url: string, options: RedisIdempotencyOptions = {}): RedisIdempotencyStore {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
    redis.on('error', options.onError ?? (() => {}));
    return new RedisIdempotencyStore(redis, options, true);
  }

  async has(key: string): Promise<boolean> {
    return (await this.redis.exists(this.#prefix + key)) === 1;
  }

  async mark(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.#prefix + key, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
