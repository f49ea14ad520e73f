/**
 * Users, chatrooms and memberships: the relational part of the data, in PostgreSQL (or PGlite on
 * the embedded default) behind one implementation, relational.store.ts.
 */
import type { GroupRole, Message, PublicUser, RoomKind } from '../protocol/frames.ts';

export type UserRecord = PublicUser;

export interface RoomRecord {
  id: string;
  kind: RoomKind;
  /** Current member user ids, ascending. */
  members: number[];
  /** Groups only: the name, each current member's role and joining seq, and the seq of the last membership event written here. */
  name?: string;
  roles?: Record<string, GroupRole>;
  joined?: Record<string, number>;
  membersSeq?: number;
  /** Groups only: the group's photo, `/api/avatars/<id>`; absent when it has none. */
  avatarUrl?: string;
}

/** One user's own membership of a room: since when they see it, until when (null while a member), mute. */
export interface OwnMembership {
  joinedSeq: number;
  leftSeq: number | null;
  muted: boolean;
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
  /**
   * Creates a user; the handle is stored lower-case. Rejects with a HandleTakenError (store.errors.ts)
   * when taken, also by a deleted account within its grace (handle.hold.ts).
   */
  createUser(handle: string, displayName: string): Promise<UserRecord>;
  /** A user; a deleted account comes back as `{ id, handle: '', displayName: '', deleted: true }`. */
  getUser(id: number): Promise<UserRecord | null>;
  /** Users by id, ascending; deleted accounts as getUser returns them. */
  getUsers(ids: readonly number[]): Promise<UserRecord[]>;
  /** The live account with that handle; never a deleted one. */
  findUserByHandle(handle: string): Promise<UserRecord | null>;
  /**
   * The 1:1 room of two users, created with both memberships on first use (idempotent under races).
   * Null when either user does not exist, or (for a room not yet created) was deleted.
   */
  openDirectRoom(a: number, b: number): Promise<(RoomRecord & Watermarks) | null>;
  /** A room with its current members and their watermarks; null when there is no such room. */
  getRoom(id: string): Promise<(RoomRecord & Watermarks) | null>;
  /**
   * Every room the user is a member of, with its current members and their watermarks, and the
   * user's own membership; with `former`, also the groups they left (`own.leftSeq` set).
   */
  roomsOf(userId: number, options?: { former?: boolean }): Promise<Array<RoomRecord & Watermarks & { own: OwnMembership }>>;
  /** The user's membership of a room, current or former; null when they never were a member (or no such room). */
  membershipOf(room: string, userId: number): Promise<OwnMembership | null>;
  /**
   * Writes a group's log events (of one room, any order, any number of times) into the rooms and
   * memberships: later seqs win per membership and for the name, so a repeat or a late write changes nothing.
   */
  applyGroupEvents(events: readonly Message[]): Promise<void>;
  /** How many groups each user is a current member of. */
  countGroupsOf(userIds: readonly number[]): Promise<Map<number, number>>;
  /** Sets or removes a group's photo; the one it replaced (null for none), or null when there is no such group. */
  setRoomAvatar(room: string, avatarUrl: string | null): Promise<string | null>;
  /** Mutes or unmutes a room's notifications for a current member; false when they are not one. */
  setMuted(room: string, userId: number, muted: boolean): Promise<boolean>;
  /** Hides a message on the user's own devices ("delete for me"); hiding it again changes nothing. */
  hideMessage(userId: number, room: string, seq: number): Promise<void>;
  /**
   * The seqs the user hid in each of `rooms`, ascending; with `perRoomMax`, only the newest that many
   * of each room. Rooms with none are absent.
   */
  hiddenOf(userId: number, rooms: readonly string[], perRoomMax?: number): Promise<Map<string, number[]>>;
  /** Raises watermarks (never lowers them), many at once. */
  raiseWatermarks(updates: readonly WatermarkUpdate[]): Promise<void>;
  ping(): Promise<void>;
}
