/**
 * Users, chatrooms and memberships: the relational part of the data, in PostgreSQL (or PGlite on
 * the embedded default) behind one implementation, relational.store.ts.
 */
import type { PublicUser } from '../protocol/frames.ts';

export type UserRecord = PublicUser;

export interface RoomRecord {
  id: string;
  kind: 'direct';
  /** Member user ids, ascending. */
  members: number[];
}

export interface Watermarks {
  /** Per member id: highest seq acknowledged (delivered) / shown (read) by that member's devices. */
  delivered: Record<string, number>;
  read: Record<string, number>;
}

export interface WatermarkUpdate {
  room: string;
  user: number;
  delivered?: number;
  read?: number;
}

export interface RelationalStore {
  /** Creates a user; the handle is stored lower-case. Rejects with a HandleTakenError (store.errors.ts) when taken. */
  createUser(handle: string, displayName: string): Promise<UserRecord>;
  getUser(id: number): Promise<UserRecord | null>;
  getUsers(ids: readonly number[]): Promise<UserRecord[]>;
  findUserByHandle(handle: string): Promise<UserRecord | null>;
  /**
   * The 1:1 room of two users, created with both memberships on first use (idempotent under races).
   * Null when either user does not exist.
   */
  openDirectRoom(a: number, b: number): Promise<(RoomRecord & Watermarks) | null>;
  /** A room with its members and their watermarks; null when there is no such room. */
  getRoom(id: string): Promise<(RoomRecord & Watermarks) | null>;
  /** Every room the user is a member of, with all members and their watermarks. */
  roomsOf(userId: number): Promise<Array<RoomRecord & Watermarks>>;
  /** Raises watermarks (never lowers them), many at once. */
  raiseWatermarks(updates: readonly WatermarkUpdate[]): Promise<void>;
  ping(): Promise<void>;
}
