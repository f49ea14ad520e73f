/**
 * Attempt counters in Redis, shared by every router node: one key per (key, window), INCR and
 * PEXPIRE in one MULTI, so concurrent attempts on several nodes are counted exactly once each.
 * The window comes from the injected clock (nodes' clocks agree to well within a window); the key
 * expires on Redis's own clock once its window is over.
 */
import { Redis } from 'ioredis';
import { checkHit, verdict, type RateLimitStore, type RateLimitVerdict } from './ratelimit.port.ts';
import { systemScheduler, type Clock } from './clock.ts';
import { pingConnected } from './redis.ping.ts';

export interface RedisRateLimitOptions {
  /** Prefix of every key. Default 'ratelimit:'. */
  prefix?: string;
  /** The time windows are counted by (db/clock.ts). Default: the system clock. */
  clock?: Clock;
  /** Connection errors (open() only). Default: ignored; commands fail on their own. */
  onError?: (err: Error) => void;
}

export class RedisRateLimitStore implements RateLimitStore {
  readonly #prefix: string;
  readonly #clock: Clock;
  #owned = false;

  private readonly redis: Redis;

  /** Uses a client the caller owns: close() leaves it open. */
  constructor(
    redis: Redis,
    options: RedisRateLimitOptions = {},
  ) {
    this.redis = redis;
    this.#prefix = options.prefix ?? 'ratelimit:';
    this.#clock = options.clock ?? systemScheduler;
  }

  /** Connects to `url` with a client of its own, which close() quits. */
  static open(url: string, options: RedisRateLimitOptions = {}): RedisRateLimitStore {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
    redis.on('error', options.onError ?? (() => {}));
    const store = new RedisRateLimitStore(redis, options);
    store.#owned = true;
    return store;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitVerdict> {
    checkHit(key, limit, windowMs);
    const now = this.#clock.now();
    const window = Math.floor(now / windowMs);
    const name = `${this.#prefix}${key}:${windowMs}:${window}`;
    // Expires a window after it ends: long enough for a node whose clock lags a little.
    const results = await this.redis.multi().incr(name).pexpire(name, 2 * windowMs).exec();
    const [err, count] = results?.[0] ?? [new Error('the transaction was discarded'), null];
    if (err) throw err;
    return verdict(Number(count), limit, windowMs, now);
  }

  async ping(): Promise<void> {
    await pingConnected(this.redis);
  }

  async close(): Promise<void> {
    if (this.#owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
