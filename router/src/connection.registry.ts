/**
 * The live connections of this node, by user and by session, and each user's rate-limit bucket.
 * Fan-out reads it on every event, so lookups are plain Map gets.
 */
import type { Connection } from './connection.ts';
import { TokenBucket } from './token-bucket.ts';

export class ConnectionRegistry {
  private readonly byUserId = new Map<number, Set<Connection>>();
  private readonly bySessionId = new Map<string, Set<Connection>>();
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(private readonly rate: { perSec: number; burst: number }) {}

  add(conn: Connection): void {
    addTo(this.byUserId, conn.user.id, conn);
    addTo(this.bySessionId, conn.sessionId, conn);
    if (!this.buckets.has(conn.user.id)) {
      this.buckets.set(conn.user.id, new TokenBucket(this.rate.perSec, this.rate.burst));
    }
  }

  remove(conn: Connection): void {
    removeFrom(this.bySessionId, conn.sessionId, conn);
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
      bucket = new TokenBucket(this.rate.perSec, this.rate.burst);
      this.buckets.set(userId, bucket);
    }
    return bucket;
  }

  ofUser(userId: number): ReadonlySet<Connection> | undefined {
    return this.byUserId.get(userId);
  }

  ofSession(sessionId: string): ReadonlySet<Connection> | undefined {
    return this.bySessionId.get(sessionId);
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
