/**
 * Blocks and privacy settings (docs/protocol.md, "Blocking" and "Privacy settings"), in PostgreSQL
 * (or PGlite) behind one implementation, privacy.store.ts; and the entries withheld from a blocker.
 */
import type { PrivacySettings } from '../protocol/http.ts';

/** What a user gets until they change it: last seen and online shown to everyone, read receipts on. */
export const DEFAULT_PRIVACY: Readonly<PrivacySettings> = Object.freeze({ lastSeen: 'everyone', readReceipts: true });

/** One user's side of privacy, as a router node keeps it for a connected user. */
export interface PrivacyRecord {
  settings: PrivacySettings;
  /** Users this user blocked. */
  blocked: number[];
  /** Users who blocked this user. */
  blockedBy: number[];
}

export interface BlockRecord {
  user: number;
  /** When the block was made, epoch ms. */
  since: number;
}

export interface PrivacyStore {
  /** `blocker` blocks `blocked`; blocking again changes nothing (the first `since` stays). */
  block(blocker: number, blocked: number): Promise<void>;
  /** Lifts a block; lifting one that does not exist changes nothing. */
  unblock(blocker: number, blocked: number): Promise<void>;
  /** Whom `blocker` blocked, newest first. */
  blocksOf(blocker: number): Promise<BlockRecord[]>;
  /** A user's settings and both sides of their blocks, in one read. */
  recordOf(user: number): Promise<PrivacyRecord>;
  /** The settings of each of `users` (the defaults for those who never changed them). */
  settingsOf(users: readonly number[]): Promise<Map<number, PrivacySettings>>;
  /** Changes some settings of `user`; resolves with all of them as stored. */
  setSettings(user: number, change: Partial<PrivacySettings>): Promise<PrivacySettings>;
  /** Hides entry `seq` of `room` for `user` for good, as withheld (a blocked user wrote it); again changes nothing. */
  withhold(user: number, room: string, seq: number): Promise<void>;
  /** The seqs of `room` withheld from `user` between `from` and `to` (inclusive), ascending. */
  withheldIn(user: number, room: string, from: number, to: number): Promise<number[]>;
  /** Every seq withheld from `user`, by room (most users have none). */
  withheldOf(user: number): Promise<Map<string, Set<number>>>;
}
