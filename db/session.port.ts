/**
 * The session store: opaque session ids to user ids, with server-side expiry, and what the owner
 * sees of each session in settings (the device it signed in on, how, when it was last used).
 * Redis in the full stack (session.redis.ts), a Map on the embedded default (session.memory.ts);
 * one contract test.
 */
export interface Session {
  /** Opaque, >= 128 random bits, base64url. */
  id: string;
  userId: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; the session is gone after this. */
  expiresAt: number;
  /** Epoch ms of the last `touch` (or the creation): as coarse as the caller touches. */
  lastActiveAt: number;
  /** The browser's User-Agent at sign-in, at most SESSION_USER_AGENT_MAX characters; '' when unknown. */
  userAgent: string;
  /** How the session was signed in ('passkey', or an OAuth provider's id); '' when unknown. */
  method: string;
}

/** What a sign-in tells the store about the new session. */
export interface SessionMeta {
  /** The request's User-Agent; the store keeps its first SESSION_USER_AGENT_MAX characters. */
  userAgent?: string;
  /** 'passkey' or an OAuth provider's id; the store keeps its first SESSION_METHOD_MAX characters. */
  method?: string;
}

/** A new session, and the sessions of the same user its creation ended (beyond the per-user cap). */
export interface CreatedSession extends Session {
  /** Ids of the user's sessions ended to stay within `SESSIONS_PER_USER_MAX`, least recently used first. */
  evicted: string[];
}

/** Longest User-Agent a session keeps: enough for every real browser's, and a bound on a key's size. */
export const SESSION_USER_AGENT_MAX = 512;
/** Longest sign-in method a session keeps (provider ids are short words). */
export const SESSION_METHOD_MAX = 32;
/**
 * Most live sessions one user may have by default: a new sign-in beyond it ends the ones least
 * recently used, so a user's index and listing stay bounded whatever a client does.
 */
export const SESSIONS_PER_USER_MAX = 100;

export interface SessionStore {
  /** Creates a session for a user that lives `ttlMs` milliseconds; ends the user's least recently used sessions beyond the cap. */
  create(userId: number, ttlMs: number, meta?: SessionMeta): Promise<CreatedSession>;
  /** The live session with that id, or null when unknown or expired. Never throws on a malformed id. */
  get(id: string): Promise<Session | null>;
  /** Extends a live session to `ttlMs` from now (sliding expiry) and marks it active now; false when it is gone. */
  touch(id: string, ttlMs: number): Promise<boolean>;
  /** The user's live sessions, most recently active first. */
  listOf(userId: number): Promise<Session[]>;
  /** Deletes one session; deleting an unknown id is not an error. */
  delete(id: string): Promise<void>;
  /** Deletes every session of a user but `keep` (if given) and returns their ids (to close their sockets). */
  deleteAllOf(userId: number, keep?: string): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The metadata as a store keeps it: clipped to its bounds, '' when absent. */
export function storedMeta(meta: SessionMeta = {}): { userAgent: string; method: string } {
  return { userAgent: (meta.userAgent ?? '').slice(0, SESSION_USER_AGENT_MAX), method: (meta.method ?? '').slice(0, SESSION_METHOD_MAX) };
}

/** Most recently active first; ties by creation, newest first. */
export function byActivity(a: Session, b: Session): number {
  return b.lastActiveAt - a.lastActiveAt || b.createdAt - a.createdAt;
}
