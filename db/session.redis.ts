/**
 * Sessions in Redis, for the full stack: every router node sees the same sessions, and Redis
 * expires them itself.
 *
 * Keys: `<prefix><id>` holds the JSON {userId, createdAt, expiresAt} with a PX expiry;
 * `<prefix>user:<userId>` is a sorted set of that user's session ids scored by expiresAt, so
 * stale ids can be pruned by score and the index can expire together with its last session.
 * Session ids are base64url and never contain ':', so the two key shapes cannot collide.
 */
import { Redis } from 'ioredis';

import { systemScheduler, type Clock } from './clock.ts';
import { assertTtl, isSessionId, newSessionId } from './session.memory.ts';
import type { Session, SessionStore } from './session.port.ts';
import { pingConnected } from './redis.ping.ts';

export interface RedisSessionStoreOptions {
  /** Prefix of every key this store writes. Default 'sess:'. */
  prefix?: string;
  /**
   * What decides expiry besides Redis's own PX (the stored expiresAt is checked against it).
   * Default: the real clock.
   */
  clock?: Clock;
}

export interface OpenRedisSessionStoreOptions extends RedisSessionStoreOptions {
  /** Called with connection errors (commands fail on their own too). Default: ignore them. */
  onError?: (err: Error) => void;
}

/**
 * Drops index entries whose session has expired and lets the index live exactly as long as its
 * newest session; otherwise the index could expire first and sign-out-everywhere would miss a
 * live session. KEYS[1] is the index, ARGV[1] the caller's clock (ms): scores use the same clock.
 */
const PRUNE_INDEX = `
local function pruneIndex(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', index, string.format('%d', math.max(1, tonumber(last[2]) - tonumber(now))))
  end
end
`;

/** KEYS: session, index. ARGV: value, ttlMs, id, expiresAt, now. */
const CREATE = `${PRUNE_INDEX}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
pruneIndex(KEYS[2], ARGV[5])
return 1
`;

/**
 * KEYS: session. ARGV: ttlMs, expiresAt, now, index key prefix, id. The index key is derived from
 * the stored userId, which only the script can read atomically; that is fine on a single Redis
 * (a cluster would need hash tags anyway, the two keys of a session live in different slots).
 */
const TOUCH = `${PRUNE_INDEX}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, s = pcall(cjson.decode, raw)
if not ok or type(s) ~= 'table' or type(s.userId) ~= 'number' or type(s.createdAt) ~= 'number'
  or type(s.expiresAt) ~= 'number' or s.expiresAt <= tonumber(ARGV[3]) then
  return 0
end
local value = string.format('{"userId":%d,"createdAt":%d,"expiresAt":%d}', s.userId, s.createdAt, tonumber(ARGV[2]))
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
local index = ARGV[4] .. string.format('%d', s.userId)
redis.call('ZADD', index, ARGV[2], ARGV[5])
pruneIndex(index, ARGV[3])
return 1
`;

/** The scripts as ioredis methods (EVALSHA with a fallback to EVAL after a SCRIPT FLUSH). */
interface SessionScripts {
  messengerSessionCreate(session: string, index: string, value: string, ttlMs: number, id: string, expiresAt: number, now: number): Promise<number>;
  messengerSessionTouch(session: string, ttlMs: number, expiresAt: number, now: number, indexPrefix: string, id: string): Promise<number>;
}

export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis & SessionScripts;
  readonly #prefix: string;
  readonly #clock: Clock;
  #owned = false;

  /** Uses a client the caller owns: close() leaves it open. */
  constructor(redis: Redis, options: RedisSessionStoreOptions = {}) {
    redis.defineCommand('messengerSessionCreate', { lua: CREATE, numberOfKeys: 2 });
    redis.defineCommand('messengerSessionTouch', { lua: TOUCH, numberOfKeys: 1 });
    this.#redis = redis as Redis & SessionScripts;
    this.#prefix = options.prefix ?? 'sess:';
    this.#clock = options.clock ?? systemScheduler;
  }

  /** Connects to `url` with a client of its own, which close() quits. */
  static open(url: string, options: OpenRedisSessionStoreOptions = {}): RedisSessionStore {
    const redis = new Redis(url, {
      lazyConnect: false,
      // A session lookup sits on the request path: fail it fast rather than hang while Redis is down.
      maxRetriesPerRequest: 2,
      // Queue commands issued before the first connect instead of failing them; the retry limit above still bounds them.
      enableOfflineQueue: true,
      connectTimeout: 5_000,
    });
    // Without a listener ioredis prints every reconnect error itself.
    redis.on('error', options.onError ?? (() => {}));
    const store = new RedisSessionStore(redis, options);
    store.#owned = true;
    return store;
  }

  async create(userId: number, ttlMs: number): Promise<Session> {
    assertTtl(ttlMs);
    const createdAt = this.#clock.now();
    const session: Session = { id: newSessionId(), userId, createdAt, expiresAt: createdAt + ttlMs };
    const value = JSON.stringify({ userId, createdAt, expiresAt: session.expiresAt });
    await this.#redis.messengerSessionCreate(this.#key(session.id), this.#indexKey(userId), value, ttlMs, session.id, session.expiresAt, createdAt);
    return session;
  }

  async get(id: string): Promise<Session | null> {
    if (!isSessionId(id)) return null;
    const raw = await this.#redis.get(this.#key(id));
    return raw === null ? null : parseSession(id, raw, this.#clock.now());
  }

  async touch(id: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    if (!isSessionId(id)) return false;
    const now = this.#clock.now();
    const touched = await this.#redis.messengerSessionTouch(this.#key(id), ttlMs, now + ttlMs, now, this.#indexKey(''), id);
    return touched === 1;
  }

  async delete(id: string): Promise<void> {
    // The index entry stays until its score passes and a later write prunes it; deleteAllOf
    // skips it meanwhile because its DEL finds nothing.
    if (isSessionId(id)) await this.#redis.del(this.#key(id));
  }

  async deleteAllOf(userId: number): Promise<string[]> {
    const index = this.#indexKey(userId);
    const scored = await this.#redis.zrange(index, 0, '-1', 'WITHSCORES');
    if (scored.length === 0) return [];
    const ids = scored.filter((_, i) => i % 2 === 0);
    const now = this.#clock.now();
    // A session created after the ZRANGE survives: it signed in after the sign-out began.
    const multi = this.#redis.multi();
    for (const id of ids) multi.del(this.#key(id));
    multi.zrem(index, ...ids);
    const replies = (await multi.exec()) ?? [];
    return ids.filter((_, i) => {
      const [err, deleted] = replies[i] ?? [];
      if (err) throw err;
      // Expired by our clock but not yet by Redis's: deleted all the same, but no longer a session (as get says).
      return deleted === 1 && Number(scored[2 * i + 1]) > now;
    });
  }

  async ping(): Promise<void> {
    await pingConnected(this.#redis);
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    // quit waits for pending replies; disconnect is the fallback when the connection is already gone.
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #key(id: string): string {
    return `${this.#prefix}${id}`;
  }

  #indexKey(userId: number | ''): string {
    return `${this.#prefix}user:${userId}`;
  }
}

/** A stored value back into a session; anything unexpected counts as no session. */
function parseSession(id: string, raw: string, now: number): Session | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { userId, createdAt, expiresAt } = value as Record<string, unknown>;
  if (typeof userId !== 'number' || typeof createdAt !== 'number' || typeof expiresAt !== 'number') return null;
  // Redis expires the key by its own clock; this keeps the answer right by ours as well.
  if (expiresAt <= now) return null;
  return { id, userId, createdAt, expiresAt };
}
