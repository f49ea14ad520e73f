/**
 * Presence: whether a user has a live WebSocket on any router node, and when they were last seen.
 * Each node reports its own connections; Redis (presence.redis.ts) shares them across nodes, and
 * memory (presence.memory.ts) serves the embedded default's single process.
 */
export interface UserPresence {
  online: boolean;
  /** When the last connection closed (ms); null while online or when unknown. */
  lastSeen: number | null;
}

export interface PresenceStore {
  /** A socket of `userId` opened on this node. */
  connected(userId: number): void;
  /** A socket of `userId` on this node closed. */
  disconnected(userId: number): void;
  /** True when the user has a live connection on some node. */
  isOnline(userId: number): Promise<boolean>;
  /** When the user's last connection closed (ms), or null when unknown; online users: now. */
  lastSeen(userId: number): Promise<number | null>;
  /**
   * Both facts for many users in one lookup (one round trip on Redis): per requested id, whether
   * they are online and, when offline, when their last connection closed (null when unknown).
   */
  presenceOf(userIds: readonly number[]): Promise<Map<number, UserPresence>>;
  ping(): Promise<void>;
  /** Withdraws this node's entries and stops its heartbeat. */
  close(): Promise<void>;
}
