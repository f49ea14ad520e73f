/**
 * The live connections of this node, by user and by session, and each user's rate-limit bucket.
 * Fan-out reads it on every event, so lookups by user are plain Map gets.
 */
import type { Connection } from './connection.ts';
import { RefusalWindow, type FloodPolicy } from './refusal.window.ts';
import { TokenBucket } from './token-bucket.ts';

/** The rate limit: a bucket per user (`perSec`, `burst`), and when a socket that keeps sending is closed. */
export interface RateLimit extends FloodPolicy {
  perSec: number;
  burst: number;
}

export class ConnectionRegistry {
  private readonly byUserId = new Map<number, Set<Connection>>();
  /**
   * A session nearly always has one socket, and a Set costs more than the socket's own entry:
   * a lone connection is stored as itself. Only sign-out looks sessions up.
   */
  private readonly bySessionId = new Map<string, Connection | Set<Connection>>();
  private readonly buckets = new Map<number, TokenBucket>();

  private readonly rate: RateLimit;
  private readonly now: () => number;

  /** @param now the rate limit's clock, in ms (default performance.now); tests drive their own. */
  constructor(
    rate: RateLimit,
    now: () => number = () => performance.now(),
  ) {
    this.rate = rate;
    this.now = now;
  }

  add(conn: Connection): void {
    addTo(this.byUserId, conn.user.id, conn);
    const other = this.bySessionId.get(conn.sessionId);
    if (other === undefined) this.bySessionId.set(conn.sessionId, conn);
    else if (other instanceof Set) other.add(conn);
    else if (other !== conn) this.bySessionId.set(conn.sessionId, new Set([other, conn]));
    this.bucketOf(conn.user.id);
  }

  remove(conn: Connection): void {
    const entry = this.bySessionId.get(conn.sessionId);
    if (entry === conn) {
      this.bySessionId.delete(conn.sessionId);
    } else if (entry instanceof Set) {
      entry.delete(conn);
      if (entry.size === 0) this.bySessionId.delete(conn.sessionId);
    }
    if (removeFrom(this.byUserId, conn.user.id, conn)) this.forgetBucketLater(conn.user.id);
  }

  /**
   * Drops a user's bucket once it would have refilled anyway: dropping it at once would hand a
   * flooder a fresh burst on every reconnect.
   */
  private forgetBucketLater(userId: number): void {
    const refillMs = Math.ceil((this.rate.burst / this.rate.perSec) * 1000);
    setTimeout(() => {
      if (!this.byUserId.has(userId)) this.buckets.delete(userId);
    }, refillMs).unref();
  }

  /** The rate-limit bucket shared by all of a user's sockets on this node. */
  bucketOf(userId: number): TokenBucket {
    let bucket = this.buckets.get(userId);
    if (!bucket) {
      bucket = new TokenBucket(this.rate.perSec, this.rate.burst, this.now);
      this.buckets.set(userId, bucket);
    }
    return bucket;
  }

  /** A window for one socket's refusals, on the rate limit's clock (made at its first refusal). */
  refusalWindow(): RefusalWindow {
    return new RefusalWindow(this.rate, this.now);
  }

  ofUser(userId: number): ReadonlySet<Connection> | undefined {
    return this.byUserId.get(userId);
  }

  /** How many users have a socket on this node. */
  get userCount(): number {
    return this.byUserId.size;
  }

  /** The users with a socket on this node. */
  userIds(): IterableIterator<number> {
    return this.byUserId.keys();
  }

  ofSession(sessionId: string): ReadonlySet<Connection> | undefined {
    const entry = this.bySessionId.get(sessionId);
    return entry === undefined || entry instanceof Set ? entry : new Set([entry]);
  }

  get size(): number {
    let n = 0;
    for (const set of this.byUserId.values()) n += set.size;
    return n;
  }

  all(): Connection[] {
    return [...this.byUserId.values()].flatMap((set) => [...set]);
  }
}

function addTo<K>(map: Map<K, Set<Connection>>, key: K, conn: Connection): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(conn);
}

/** Returns true when the key has no connection left. */
function removeFrom<K>(map: Map<K, Set<Connection>>, key: K, conn: Connection): boolean {
  const set = map.get(key);
  if (!set) return true;
  set.delete(conn);
  if (set.size > 0) return false;
  map.delete(key);
  return true;
}
