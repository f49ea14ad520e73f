/**
 * Presence in Redis, across router nodes. Per user a hash `<prefix>u:<id>` maps node id →
 * "count:expiresAt". A node rewrites its fields on every change and, for all its users, on a
 * heartbeat every ttl/3; readers ignore fields whose expiresAt has passed, so a node that died
 * stops counting within `ttlMs` even while other nodes keep the key alive. The key itself expires
 * `ttlMs` after its last write. `<prefix>seen:<id>` holds when the user's last socket closed.
 */
import { Redis } from 'ioredis';
import { systemScheduler, type Scheduler, type Timer } from './clock.ts';
import type { PresenceStore, UserPresence } from './presence.port.ts';
import { pingConnected } from './redis.ping.ts';

export interface RedisPresenceOptions {
  /** This node's id (a hash field). */
  nodeId: string;
  /** How long a node's entry counts without a heartbeat, ms. Default 30 000. */
  ttlMs?: number;
  /** Prefix of every key. Default 'presence:'. */
  prefix?: string;
  /** How long last-seen times are kept, ms. Default 30 days. */
  seenTtlMs?: number;
  /** Write and connection errors (presence is best effort). Default: ignore. */
  onError?: (err: Error) => void;
  /** The time entries expire by and the heartbeat runs on. Default: the real clock and timers. */
  scheduler?: Scheduler;
}

export class RedisPresenceStore implements PresenceStore {
  readonly #redis: Redis;
  readonly #node: string;
  readonly #ttl: number;
  readonly #prefix: string;
  readonly #seenTtl: number;
  readonly #onError: (err: Error) => void;
  readonly #counts = new Map<number, number>();
  readonly #timer: Timer;
  readonly #scheduler: Scheduler;
  readonly #owned: boolean;

  constructor(redis: Redis, options: RedisPresenceOptions, owned = false) {
    this.#redis = redis;
    this.#owned = owned;
    this.#node = options.nodeId;
    this.#ttl = options.ttlMs ?? 30_000;
    this.#prefix = options.prefix ?? 'presence:';
    this.#seenTtl = options.seenTtlMs ?? 30 * 24 * 3600_000;
    this.#onError = options.onError ?? (() => {});
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#timer = this.#scheduler.every(Math.max(50, Math.floor(this.#ttl / 3)), () => this.heartbeat());
  }

  /** Opens its own connection (closed by close()); a reader-only store never calls connected(). */
  static open(url: string, options: RedisPresenceOptions): RedisPresenceStore {
    const redis = new Redis(url, { maxRetriesPerRequest: 2 });
    redis.on('error', options.onError ?? (() => {}));
    return new RedisPresenceStore(redis, options, true);
  }

  connected(userId: number): void {
    const n = (this.#counts.get(userId) ?? 0) + 1;
    this.#counts.set(userId, n);
    this.#write(userId, n);
  }

  disconnected(userId: number): void {
    const n = (this.#counts.get(userId) ?? 0) - 1;
    if (n > 0) {
      this.#counts.set(userId, n);
      return this.#write(userId, n);
    }
    this.#counts.delete(userId);
    this.#redis
      .multi()
      .hdel(this.#key(userId), this.#node)
      .set(`${this.#prefix}seen:${userId}`, String(this.#scheduler.now()), 'PX', this.#seenTtl)
      .exec()
      .catch((err: Error) => this.#onError(err));
  }

  async isOnline(userId: number): Promise<boolean> {
    if (this.#counts.has(userId)) return true;
    return live(await this.#redis.hgetall(this.#key(userId)), this.#scheduler.now());
  }

  async lastSeen(userId: number): Promise<number | null> {
    if (await this.isOnline(userId)) return this.#scheduler.now();
    const seen = await this.#redis.get(`${this.#prefix}seen:${userId}`);
    return seen === null ? null : Number(seen);
  }

  async presenceOf(userIds: readonly number[]): Promise<Map<number, UserPresence>> {
    const ids = [...new Set(userIds)];
    const out = new Map<number, UserPresence>();
    const remote = ids.filter((id) => !this.#counts.has(id));
    for (const id of ids) if (this.#counts.has(id)) out.set(id, { online: true, lastSeen: null });
    if (remote.length === 0) return out;
    const p = this.#redis.pipeline();
    for (const id of remote) p.hgetall(this.#key(id)).get(`${this.#prefix}seen:${id}`);
    const replies = (await p.exec()) ?? [];
    remote.forEach((id, i) => {
      const [hashErr, fields] = replies[2 * i] ?? [];
      const [seenErr, seen] = replies[2 * i + 1] ?? [];
      if (hashErr || seenErr) throw hashErr ?? seenErr;
      const online = live(fields as Record<string, string>, this.#scheduler.now());
      out.set(id, { online, lastSeen: online || seen == null ? null : Number(seen) });
    });
    return out;
  }

  async ping(): Promise<void> {
    await pingConnected(this.#redis);
  }

  async close(): Promise<void> {
    this.#timer.cancel();
    if (this.#counts.size > 0) {
      const m = this.#redis.multi();
      for (const userId of this.#counts.keys()) m.hdel(this.#key(userId), this.#node);
      await m.exec().catch((err: Error) => this.#onError(err));
      this.#counts.clear();
    }
    if (this.#owned) await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(userId: number): string {
    return `${this.#prefix}u:${userId}`;
  }

  #write(userId: number, count: number): void {
    this.#redis
      .multi()
      .hset(this.#key(userId), this.#node, `${count}:${this.#scheduler.now() + this.#ttl}`)
      .pexpire(this.#key(userId), this.#ttl)
      .exec()
      .catch((err: Error) => this.#onError(err));
  }

  /**
   * Rewrites every user of this node (the store does it every ttl/3), in one script call per
   * HEARTBEAT_CHUNK users. A MULTI of two commands per user held the main thread for ~90 ms per
   * 10,000 users (a command object, its encoding and its reply each), stalling every socket of the
   * node (`npm run bench:presence`).
   */
  heartbeat(): void {
    if (this.#counts.size === 0) return;
    const until = String(this.#scheduler.now() + this.#ttl);
    const entries = [...this.#counts];
    for (let i = 0; i < entries.length; i += HEARTBEAT_CHUNK) {
      const chunk = entries.slice(i, i + HEARTBEAT_CHUNK);
      const keys = chunk.map(([userId]) => this.#key(userId));
      const counts = chunk.map(([, count]) => String(count));
      this.#redis.eval(HEARTBEAT_LUA, keys.length, ...keys, this.#node, String(this.#ttl), until, ...counts).catch((err: Error) => this.#onError(err));
    }
  }
}

/** Users per heartbeat script call: bounds how long one call holds Redis. */
const HEARTBEAT_CHUNK = 1000;

/** KEYS: the users' hashes; ARGV: node, ttl ms, expiresAt, then each key's socket count. */
const HEARTBEAT_LUA = `
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, ARGV[1], ARGV[3 + i] .. ':' .. ARGV[3])
  redis.call('PEXPIRE', key, ARGV[2])
end
return #KEYS`;

/** True when some node's field counts at least one socket and has not expired. */
function live(fields: Record<string, string>, now: number): boolean {
  return Object.values(fields).some((v) => {
    const [count, until] = v.split(':').map(Number);
    return (count ?? 0) > 0 && (until ?? 0) > now;
  });
}
