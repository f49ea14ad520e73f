/**
 * Sessions in a Map, for the embedded default (one process, nothing installed). Lost on restart,
 * which only signs everyone out. Also home of the id format both stores share.
 */
import { randomBytes } from 'node:crypto';

import { systemScheduler, type Clock } from './clock.ts';
import { byActivity, SESSIONS_PER_USER_MAX, storedMeta, type CreatedSession, type Session, type SessionMeta, type SessionStore } from './session.port.ts';

/** 32 random bytes in base64url: always 43 characters, no padding. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A fresh session id: 256 random bits, base64url. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether a value can be a session id at all; checked before any lookup so junk never reaches a store. */
export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

/** Rejects TTLs that would make a session that is born expired or never expires. */
export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
}

export interface MemorySessionStoreOptions {
  /** How often expired sessions are swept, in ms. Default 60 000. Reads never see them either way. */
  sweepIntervalMs?: number;
  /** What decides expiry. Default: the real clock. */
  clock?: Clock;
  /** Most live sessions per user; a new one beyond it ends the least recently used. Default SESSIONS_PER_USER_MAX. */
  maxPerUser?: number;
}

export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #clock: Clock;
  readonly #maxPerUser: number;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#clock = options.clock ?? systemScheduler;
    this.#maxPerUser = options.maxPerUser ?? SESSIONS_PER_USER_MAX;
    // Without the sweep, sessions that are never read again would stay in memory forever.
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepIntervalMs ?? 60_000);
    // A store must never be the reason a process stays alive.
    this.#sweeper.unref();
  }

  async create(userId: number, ttlMs: number, meta?: SessionMeta): Promise<CreatedSession> {
    assertTtl(ttlMs);
    const createdAt = this.#clock.now();
    const session: Session = { id: newSessionId(), userId, createdAt, expiresAt: createdAt + ttlMs, lastActiveAt: createdAt, ...storedMeta(meta) };
    // The ones expiring first are the ones used least recently: every use slides the expiry.
    const older = (await this.listOf(userId)).sort((a, b) => a.expiresAt - b.expiresAt);
    const evicted = older.slice(0, Math.max(0, older.length + 1 - this.#maxPerUser)).map((s) => s.id);
    for (const id of evicted) this.#sessions.delete(id);
    this.#sessions.set(session.id, session);
    return { ...session, evicted };
  }

  async get(id: string): Promise<Session | null> {
    const session = this.#live(id);
    // A copy, so a caller cannot move our expiry by mutating what it got.
    return session ? { ...session } : null;
  }

  async touch(id: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const session = this.#live(id);
    if (!session) return false;
    session.lastActiveAt = this.#clock.now();
    session.expiresAt = session.lastActiveAt + ttlMs;
    return true;
  }

  async listOf(userId: number): Promise<Session[]> {
    // A scan is fine at embedded scale, as for deleteAllOf.
    const now = this.#clock.now();
    const list: Session[] = [];
    for (const session of this.#sessions.values()) if (session.userId === userId && session.expiresAt > now) list.push({ ...session });
    return list.sort(byActivity);
  }

  async delete(id: string): Promise<void> {
    if (isSessionId(id)) this.#sessions.delete(id);
  }

  async deleteAllOf(userId: number, keep?: string): Promise<string[]> {
    // A scan is fine at embedded scale; the Redis store keeps a per-user index instead.
    const now = this.#clock.now();
    const ids: string[] = [];
    for (const [id, session] of this.#sessions) {
      if (session.userId !== userId || id === keep) continue;
      this.#sessions.delete(id);
      if (session.expiresAt > now) ids.push(id);
    }
    return ids;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sessions.clear();
  }

  #live(id: string): Session | undefined {
    if (!isSessionId(id)) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt > this.#clock.now()) return session;
    this.#sessions.delete(id);
    return undefined;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(id);
  }
}
