/**
 * The session store: opaque session ids to user ids, with server-side expiry. Redis in the full
 * stack (session.redis.ts), a Map on the embedded default (session.memory.ts); one contract test.
 */
export interface Session {
  /** Opaque, >= 128 random bits, base64url. */
  id: string;
  userId: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; the session is gone after this. */
  expiresAt: number;
}

export interface SessionStore {
  /** Creates a session for a user that lives `ttlMs` milliseconds. */
  create(userId: number, ttlMs: number): Promise<Session>;
  /** The live session with that id, or null when unknown or expired. Never throws on a malformed id. */
  get(id: string): Promise<Session | null>;
  /** Extends a live session to `ttlMs` from now (sliding expiry); false when it is gone. */
  touch(id: string, ttlMs: number): Promise<boolean>;
  /** Deletes one session; deleting an unknown id is not an error. */
  delete(id: string): Promise<void>;
  /** Deletes every session of a user and returns their ids (to close their sockets). */
  deleteAllOf(userId: number): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
