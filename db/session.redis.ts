/**
 * Sessions in Redis, for the full stack: every router node sees the same sessions, and Redis
 * expires them itself.
 *
 * Keys: `<prefix><id>` holds the JSON {userId, createdAt, expiresAt, lastActiveAt, userAgent,
 * method} with a PX expiry (at most SESSION_USER_AGENT_MAX + SESSION_METHOD_MAX characters of
 * text); `<prefix>user:<userId>` is a sorted set of that user's session ids scored by expiresAt,
 * so stale ids can be pruned by score, the least recently used are the first, and the index can
 * expire together with its last session. It holds at most `maxPerUser` ids: a creation beyond it
 * ends the lowest scored. Session ids are base64url and never contain ':', so the two key shapes
 * cannot collide.
 */
import { Redis } from 'ioredis';

import { systemScheduler, type Clock } from './clock.ts';
import { assertTtl, isSessionId, newSessionId } from './session.memory.ts';
import { byActivity, SESSIONS_PER_USER_MAX, storedMeta, type CreatedSession, type Session, type SessionMeta, type SessionStore } from './session.port.ts';
import { pingConnected } from './redis.ping.ts';

export interface RedisSessionStoreOptions {
  /** Prefix of every key this store writes. Default 'sess:'. */
  prefix?: string;
  /**
   * What decides expiry besides Redis's own PX (the stored expiresAt is checked against it).
   * Default: the real clock.
   */
  clock?: Clock;
  /** Most live sessions per user; a new one beyond it ends the least recently used. Default SESSIONS_PER_USER_MAX. */
  maxPerUser?: number;
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

/**
 * KEYS: session, index. ARGV: value, ttlMs, id, expiresAt, now, maxPerUser, session key prefix.
 * Returns the ids of the sessions it ended to keep the index within maxPerUser.
 */
const CREATE = `${PRUNE_INDEX}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
local evicted = {}
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess)) do
    if excess > 0 and old ~= ARGV[3] then
      if redis.call('DEL', ARGV[7] .. old) == 1 then table.insert(evicted, old) end
      redis.call('ZREM', KEYS[2], old)
      excess = excess - 1
    end
  end
end
pruneIndex(KEYS[2], ARGV[5])
return evicted
`;

/** KEYS: session. ARGV: index key prefix, id. Deletes the session and its index entry. */
const DELETE = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
redis.call('DEL', KEYS[1])
local ok, s = pcall(cjson.decode, raw)
if ok and type(s) == 'table' and type(s.userId) == 'number' then
  redis.call('ZREM', ARGV[1] .. string.format('%d', s.userId), ARGV[2])
end
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
local text = function(v) if type(v) == 'string' then return cjson.encode(v) end return '""' end
local value = string.format('{"userId":%d,"createdAt":%d,"expiresAt":%d,"lastActiveAt":%d,"userAgent":%s,"method":%s}',
  s.userId, s.createdAt, tonumber(ARGV[2]), tonumber(ARGV[3]), text(s.userAgent), text(s.method))
redis.call('SET', KEYS[1], value, 'PX', ARGV[1])
local index = ARGV[4] .. string.format('%d', s.userId)
redis.call('ZADD', index, ARGV[2], ARGV[5])
pruneIndex(index, ARGV[3])
return 1
`;

/** The scripts as ioredis methods (EVALSHA with a fallback to EVAL after a SCRIPT FLUSH). */
interface SessionScripts {
  messengerSessionCreate(session: string, index: string, value: string, ttlMs: number, id: string, expiresAt: number, now: number, maxPerUser: number, keyPrefix: string): Promise<string[]>;
  messengerSessionDelete(session: string, indexPrefix: string, id: string): Promise<number>;
  messengerSessionTouch(session: string, ttlMs: number, expiresAt: number, now: number, indexPrefix: string, id: string): Promise<number>;
}

export class RedisSessionStore implements SessionStore {
  readonly #redis: Redis & SessionScripts;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #maxPerUser: number;
  #owned = false;

  /** Uses a client the caller owns: close() leaves it open. */
  constructor(redis: Redis, options: RedisSessionStoreOptions = {}) {
    redis.defineCommand('messengerSessionCreate', { lua: CREATE, numberOfKeys: 2 });
    redis.defineCommand('messengerSessionTouch', { lua: TOUCH, numberOfKeys: 1 });
    redis.defineCommand('messengerSessionDelete', { lua: DELETE, numberOfKeys: 1 });
    this.#redis = redis as Redis & SessionScripts;
    this.#prefix = options.prefix ?? 'sess:';
    this.#clock = options.clock ?? systemScheduler;
    this.#maxPerUser = options.maxPerUser ?? SESSIONS_PER_USER_MAX;
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

  async create(userId: number, ttlMs: number, meta?: SessionMeta): Promise<CreatedSession> {
    assertTtl(ttlMs);
    const createdAt = this.#clock.now();
    const session: Session = { id: newSessionId(), userId, createdAt, expiresAt: createdAt + ttlMs, lastActiveAt: createdAt, ...storedMeta(meta) };
    const { id: _, ...stored } = session;
    const evicted = await this.#redis.messengerSessionCreate(
      this.#key(session.id),
      this.#indexKey(userId),
      JSON.stringify(stored),
      ttlMs,
      session.id,
      session.expiresAt,
      createdAt,
      this.#maxPerUser,
      this.#prefix,
    );
    return { ...session, evicted };
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

  async listOf(userId: number): Promise<Session[]> {
    const index = this.#indexKey(userId);
    const ids = await this.#redis.zrange(index, 0, '-1');
    if (ids.length === 0) return [];
    const values = await this.#redis.mget(ids.map((id) => this.#key(id)));
    const now = this.#clock.now();
    const list: Session[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const raw = values[i];
      const session = raw == null ? null : parseSession(id, raw, now);
      if (session?.userId === userId) list.push(session);
      else if (raw == null) gone.push(id);
    });
    // Entries whose key Redis expired before their score passed: tidied here rather than left for a later write.
    if (gone.length > 0) await this.#redis.zrem(index, ...gone);
    return list.sort(byActivity);
  }

  async delete(id: string): Promise<void> {
    if (isSessionId(id)) await this.#redis.messengerSessionDelete(this.#key(id), this.#indexKey(''), id);
  }

  async deleteAllOf(userId: number, keep?: string): Promise<string[]> {
    const index = this.#indexKey(userId);
    const all = await this.#redis.zrange(index, 0, '-1', 'WITHSCORES');
    // Pairs of id and score, without the one to keep.
    const scored = all.flatMap((v, i) => (i % 2 === 0 && v !== keep ? [v, all[i + 1]!] : []));
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
  const { userId, createdAt, expiresAt, lastActiveAt, userAgent, method } = value as Record<string, unknown>;
  if (typeof userId !== 'number' || typeof createdAt !== 'number' || typeof expiresAt !== 'number') return null;
  // Redis expires the key by its own clock; this keeps the answer right by ours as well.
  if (expiresAt <= now) return null;
  // Sessions stored before the metadata existed have none: active when created, device unknown.
  return {
    id,
    userId,
    createdAt,
    expiresAt,
    lastActiveAt: typeof lastActiveAt === 'number' ? lastActiveAt : createdAt,
    userAgent: typeof userAgent === 'string' ? userAgent : '',
    method: typeof method === 'string' ? method : '',
  };
}
