/**
 * The wire protocol, version 1: JSON text frames over one WebSocket, negotiated with the
 * subprotocol `messenger.v1`. This module holds the types and constants router and app share; the
 * zod schemas that validate client frames at the router's edge are in frames.schema.ts, so the app
 * does not ship a validator it never runs. Prose and examples: docs/protocol.md.
 */
import type { ErrorCode } from './errors.ts';

import type { LIMITS, Reaction } from './limits.ts';

export { LIMITS, PROTOCOL_VERSION, REACTIONS, SUBPROTOCOL, type Reaction } from './limits.ts';
export type { ClientFrame, ClientFrameType } from './frames.schema.ts';

/** A room is a 1:1 conversation (`LOWER-HIGHER`) or a named group (`g-…`). */
export type RoomKind = 'direct' | 'group';

/** A member's role in a group: one owner; admins and the owner manage members; the owner manages roles. */
export type GroupRole = 'owner' | 'admin' | 'member';

/**
 * A change to a group, as an entry of its log (`Message.kind === 'event'`). The entry's `sender` is
 * the user who made the change; `user` the one it is about.
 */
export type RoomEvent =
  /** Seq 1 of every group: its name and first members (the creator is the owner). */
  | { type: 'room.created'; name: string; members: Array<{ user: number; role: GroupRole }> }
  | { type: 'room.renamed'; name: string }
  /** `user` joined with `role` (always `member` today); they see the log from this entry on. */
  | { type: 'member.added'; user: number; role: GroupRole }
  /** An owner or admin (the `sender`) removed `user`; this is the last entry `user` sees. */
  | { type: 'member.removed'; user: number }
  /** `user` left by themselves; the last entry they see. An owner's leaving is followed, in the same commit, by `member.role` naming the new owner. */
  | { type: 'member.left'; user: number }
  /** `user` now has `role` (promoted, demoted, or made owner when the owner left). */
  | { type: 'member.role'; user: number; role: GroupRole };

/**
 * A change to an earlier message, as an entry of the room's log (`Message.kind === 'event'`) in 1:1
 * rooms and groups alike. `seq` names the message it changes; the entry's `sender` made the change.
 * A client applies it to that message only when the entry's seq is above the message's `rev` (a
 * message read after the change already shows it).
 */
export type MessageChange =
  /** The new body (the latest edit wins). Once the message is deleted, the store erases this body too: `''`. */
  | { type: 'message.edited'; seq: number; body: string }
  /** Deleted for everyone: the message becomes a tombstone (empty body, no reactions). */
  | { type: 'message.deleted'; seq: number }
  /** The entry's sender put `emoji` on the message (`on`) or took it off. */
  | { type: 'message.reacted'; seq: number; emoji: Reaction; on: boolean };

/** Every event a log entry may carry: a change to a group, or a change to a message. */
export type LogEvent = RoomEvent | MessageChange;

/** True for an entry that changes an earlier message (its event's type starts with `message.`). */
export function isMessageChange(event: LogEvent | undefined): event is MessageChange {
  return event !== undefined && event.type.startsWith('message.');
}

/** What a reply shows of the message it answers: who wrote it and how it starts, as it is now. */
export interface ReplyPreview {
  seq: number;
  sender: number;
  /** The start of the original's current body (`LIMITS.replyPreviewLength` code units at most); `''` once deleted. */
  preview: string;
  deleted?: true;
}

/**
 * A file or photo a message carries (docs/http-api.md, "Attachments"): its bytes are fetched from
 * `GET /api/attachments/:id` (and an image's thumbnail from `…/thumb`) by members who see the message.
 */
export interface Attachment {
  /** The upload's id (a UUID). */
  id: string;
  /** The file name as given (the name rule: no path, no bidi override). */
  name: string;
  /** The media type sniffed from the bytes (`application/octet-stream` when unknown), never the client's. */
  type: string;
  /** Bytes. */
  size: number;
  /** Images: pixels, upright. */
  width?: number;
  height?: number;
  /** Images: a ThumbHash of the picture (base64, ~25 bytes), a blur to show before the thumbnail loads. */
  placeholder?: string;
}

/**
 * An entry of a room's log as every client sees it. `seq` is gap-free per room; `ts` is server time
 * (ms). A text message has no `kind` (the shape of version 1's first messages, unchanged); a change
 * to a group has `kind: 'event'`, its `event`, an empty `body` and a server-made `clientMsgId`.
 */
export interface Message {
  id: string;
  room: string;
  seq: number;
  sender: number;
  body: string;
  clientMsgId: string;
  ts: number;
  kind?: 'event';
  event?: LogEvent;
  /** A reply: the message it answers, in this room, as it is when read (a deletion erases the preview). */
  replyTo?: ReplyPreview;
  /** A forwarded copy: who wrote the original and their display name then. The source room is never told. */
  forwarded?: { sender: number; name: string };
  /** Photos and files (1 to `LIMITS.attachmentsMax`), in the order sent; `body` is then an optional caption. Erased with a deletion. */
  attachments?: Attachment[];
  /**
   * The seq of the last entry that changed this message (an edit, deletion or reaction); absent
   * when none did. A change entry with a seq at or below it is already part of this state.
   */
  rev?: number;
  /** When the body was last edited (ms). */
  editedAt?: number;
  /** Deleted for everyone: `body` is `''`, nothing else of it is kept. */
  deleted?: true;
  /** Who reacted with what, per emoji in order of reacting; absent when nobody did. */
  reactions?: Partial<Record<Reaction, number[]>>;
  /**
   * Withheld from the reader: an entry a user they blocked wrote into their 1:1 room. It comes as a
   * stub (`body` and `clientMsgId` empty, nothing else of it) so pages stay gap-free; never shown,
   * never unread (docs/protocol.md, "Blocking").
   */
  withheld?: true;
}

export interface PublicUser {
  id: number;
  handle: string;
  displayName: string;
  /** The profile photo's URL (`/api/avatars/<id>`, docs/http-api.md "Avatars"); absent or null when there is none. */
  avatarUrl?: string | null;
  /**
   * Set when the account was deleted: `handle` and `displayName` are then empty, and clients show
   * "Deleted account" with a neutral avatar (docs/http-api.md, "Deleting the account").
   */
  deleted?: true;
}

/** A room member as `sync.done` lists them: the public profile plus presence at sync time. */
export interface MemberPresence extends PublicUser {
  /** True when the user has a live connection on some router node. */
  online: boolean;
  /** When the user's last connection closed (ms); absent while online or when unknown. */
  lastSeen?: number;
  /** Groups only: the member's role. */
  role?: GroupRole;
  /** Groups only: the seq of the entry that made them a member; they see the log from it on. */
  joinedSeq?: number;
}

export interface RoomSummary {
  room: string;
  /** Added within version 1; the server always sends it, and absent means `direct`. */
  kind?: RoomKind;
  /** Groups only: the current name. */
  name?: string;
  /** Groups only: the group's photo (`/api/avatars/<id>`, docs/http-api.md "Avatars"); absent when it has none. */
  avatarUrl?: string;
  /** The current members (a room the user left: empty). */
  members: MemberPresence[];
  /** The last seq the user may see: the room's last seq, or the seq of their leaving. */
  lastSeq: number;
  /** Per member id: the highest seq that member's devices acknowledged / read. */
  delivered: Record<string, number>;
  read: Record<string, number>;
  /** Groups only: the seq from which this user sees the log. */
  joinedSeq?: number;
  /** The seqs this user deleted for themselves in this room (the newest `LIMITS.hiddenPerRoomMax`); absent when none. */
  hidden?: number[];
  /** Groups only, a group the user was removed from or left: the seq of that entry, the last they see. */
  left?: number;
  /** True when the user muted the room's push notifications (`PUT /api/rooms/:room/mute`). */
  muted?: boolean;
}

/** A member as `group.members` lists them: who they are, their role, since when, and how far their devices got. */
export interface GroupMember extends PublicUser {
  role: GroupRole;
  joinedSeq: number;
  /** The highest seq this member's devices acknowledged (delivered) and showed (read). */
  delivered: number;
  read: number;
}

/** The group limits of this server (config), announced in `hello`. */
export interface GroupLimits {
  /** Most members of one group (GROUP_MEMBERS_MAX, default 1000). */
  membersMax: number;
  /** Most groups one user may be a member of (GROUPS_PER_USER_MAX, default 500). */
  perUserMax: number;
}

export type ServerFrame =
  | {
      type: 'hello';
      v: number;
      user: PublicUser;
      connectionId: string;
      limits: typeof LIMITS;
      /** Added within version 1; the server always sends it. */
      groups?: GroupLimits;
      /** Added within version 1; the server always sends it. How long a message stays editable (EDIT_WINDOW_MS), ms. */
      editWindowMs?: number;
    }
  | { type: 'message.sent'; ref: string; room: string; id: string; seq: number; ts: number; duplicate: boolean }
  | { type: 'message.new'; message: Message }
  | { type: 'receipt'; room: string; user: number; kind: 'delivered' | 'read'; seq: number }
  | { type: 'typing'; room: string; user: number; active: boolean }
  | { type: 'history.page'; ref?: string; room: string; messages: Message[]; hasMore: boolean }
  | { type: 'sync.done'; ref?: string; rooms: RoomSummary[] }
  /** A contact (someone sharing a room) came online or went offline; `lastSeen` only when offline. */
  | { type: 'presence'; user: number; online: boolean; lastSeen?: number }
  /**
   * A contact (someone sharing a room), or this user on another device, changed their profile:
   * `user` is the profile as it now is. Sent live to every member of every room the user is in;
   * `sync.done` carries the same current profiles, so a device that missed it catches up.
   */
  | { type: 'user.updated'; user: PublicUser }
  /**
   * A group request was applied: `room` (for `group.create`, the new group's id) and the seq of the
   * last log entry it wrote. The entries themselves arrive as `message.new`, on this socket too.
   */
  | { type: 'group.done'; ref?: string; room: string; seq: number }
  /** The answer to `group.members`: the current members with their roles and receipt watermarks. */
  | { type: 'group.members'; ref?: string; room: string; name: string; lastSeq: number; members: GroupMember[] }
  /**
   * The answer to `message.edit`, `message.delete` (for everyone) and `message.react`: `seq` is the
   * entry that made the change, or the message's `rev` when it already was in that state (a retry,
   * which changes nothing). The entry itself arrives as `message.new`, on this socket too.
   */
  | { type: 'message.changed'; ref?: string; room: string; target: number; seq: number }
  /**
   * `message.delete` for me: sent to every socket of the user (the one that asked gets its `ref`).
   * The message is hidden on each of their devices; nobody else is told.
   */
  | { type: 'message.hidden'; ref?: string; room: string; seq: number }
  | { type: 'pong'; ref?: string }
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };

export type ServerFrameType = ServerFrame['type'];

/** The 1:1 room of two users: ids sorted numerically and joined, `LOWER-HIGHER`. */
export function directRoomId(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** Group ids start with `g-`, which no `LOWER-HIGHER` id can: the kind of a room is read from its id. */
export const GROUP_ID_PREFIX = 'g-';

/** The kind of room an id names. */
export function roomKindOf(room: string): RoomKind {
  return room.startsWith(GROUP_ID_PREFIX) ? 'group' : 'direct';
}

/** True for a log entry that is a change to the group rather than a text message. */
export function isRoomEvent(m: Message): m is Message & { kind: 'event'; event: RoomEvent } {
  return m.kind === 'event';
}
