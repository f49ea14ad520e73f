/**
 * The history store: every chat message, durably, with a gap-free sequence number per room.
 * Two implementations keep the same contract (db/test/history.contract.ts): PostgreSQL
 * (history.pg.ts, also on PGlite) and MongoDB (history.mongo.ts).
 */
import type { GroupRole, Message, RoomEvent } from '../protocol/frames.ts';

export type { Message };

/**
 * An entry as the router hands it to the store: no id, seq or timestamp yet. A text message has
 * only the first four fields; an entry of a group (`g-…`) may carry an event and its change.
 */
export interface NewMessage {
  room: string;
  sender: number;
  body: string;
  clientMsgId: string;
  /** A change to the group, stored with the entry and returned with it (`kind: 'event'`). */
  event?: RoomEvent;
  /** What the entry does to the group's members, applied in the commit that stores it. */
  change?: MembershipChange;
  /**
   * The group request this entry belongs to: every entry of one request carries the same object.
   * The first of them is stored only if the group's membership version is still `expect` (the one
   * the request was decided on), and the others go with it; otherwise all are refused `stale`.
   */
  op?: { expect: number };
}

/** Members set (added, or their role changed) and removed by one entry. */
export interface MembershipChange {
  set?: Array<{ user: number; role: GroupRole }>;
  remove?: number[];
}

/** A group's current members as the log has them, and the seq of the last entry that changed them. */
export interface GroupState {
  version: number;
  members: Array<{ user: number; role: GroupRole; joinedSeq: number }>;
}

/**
 * What happened to one appended entry.
 * - `stored`: new; it got the room's next seq. In a group, `version` is the membership version
 *   right after it (its own seq for an entry with a change).
 * - `duplicate`: (room, sender, clientMsgId) was stored before with the same body; the original is returned.
 * - `conflict`: that clientMsgId was stored before with a different body; the original is returned, nothing stored.
 * - `refused` (groups only; nothing stored, no seq used): `not_member`, the sender of a message is not
 *   a member at its seq, or the group does not exist; `stale`, the membership moved since the request's `op.expect`.
 */
export type AppendOutcome =
  | { kind: 'stored'; message: Message; version?: number }
  | { kind: 'duplicate'; message: Message; version?: number }
  | { kind: 'conflict'; message: Message }
  | { kind: 'refused'; reason: 'not_member' | 'stale'; message?: undefined };

export interface HistoryStore {
  /**
   * Stores a batch durably and atomically (all or nothing), assigning each new message the next
   * seq of its room in input order. Returns one outcome per input, in input order. A repeated
   * (room, sender, clientMsgId), within the batch or with an earlier batch, is a duplicate or a
   * conflict and consumes no seq. Resolves only once the batch is durable. Rejects with a
   * `HistoryContentError` when the store refuses what the batch contains (nothing is stored);
   * any other rejection leaves the outcome unknown (the batch may have been stored).
   */
  append(batch: readonly NewMessage[]): Promise<AppendOutcome[]>;
  /** Messages of a room with `seq > after`, oldest first, at most `limit`. */
  after(room: string, after: number, limit: number): Promise<Message[]>;
  /** Messages of a room with `seq < before` (all when undefined), newest first, at most `limit`. */
  before(room: string, before: number | undefined, limit: number): Promise<Message[]>;
  /** The highest seq of a room, 0 when it has none. */
  lastSeq(room: string): Promise<number>;
  /** A group's current members and membership version, as the log decides them; null for no such group. */
  groupState(room: string): Promise<GroupState | null>;
  /** Reports whether the store answers (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store refused a batch for what it contains, not for its own state: a value the database
 * cannot hold (PostgreSQL's data exceptions, such as a NUL in a text; a document over MongoDB's
 * size limit) or a batch over one of its limits. Nothing of the batch was stored, and the same
 * batch would fail again, but its parts may not: the group commit splits it until the message at
 * fault fails alone. Every other failure (connection, timeout, a server going away) is transient.
 */
export class HistoryContentError extends Error {
  override readonly name = 'HistoryContentError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** True when `err` is the store refusing a batch for its content (see HistoryContentError). */
export function isHistoryContentError(err: unknown): err is HistoryContentError {
  return err instanceof HistoryContentError;
}
