/**
 * The history store: every chat message, durably, with a gap-free sequence number per room.
 * Two implementations keep the same contract (db/test/history.contract.ts): PostgreSQL
 * (history.pg.ts, also on PGlite) and MongoDB (history.mongo.ts).
 */
import type { Attachment, GroupRole, LogEvent, Message } from '../protocol/frames.ts';

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
  /**
   * A change to the group or to an earlier message (`MessageChange`), stored with the entry and
   * returned with it (`kind: 'event'`). A message change is judged and applied to its target in the
   * commit that would give it its seq (history.batch.ts, `judgeChanges`); its body is `''`.
   */
  event?: LogEvent;
  /** A reply: the seq of a message of the same room (the router checked that the sender may see it). */
  replyTo?: number;
  /** A forwarded copy: the original's sender and their display name when forwarded. */
  forwarded?: { sender: number; name: string };
  /** Photos and files, claimed for this message before its append (router/src/attachments/attachment.claims.ts). */
  attachments?: Attachment[];
  /** A `message.edited` entry: the target must have been sent at or after this time (ms; the edit window). */
  editableSince?: number;
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
 * - `unchanged` (message changes only): the target already is in the state the change asks for (the
 *   same body, deleted twice, a reaction already on or off); nothing stored, no seq used, and
 *   `message` is the target as it is (its `rev` names the entry that made that state).
 * - `refused` (nothing stored, no seq used): in groups, `not_member`, the sender of an entry is not
 *   a member at its seq, or the group does not exist; `stale`, the membership moved since the
 *   request's `op.expect`. For a message change, one of `ChangeRefusal`.
 */
export type AppendOutcome =
  | { kind: 'stored'; message: Message; version?: number }
  | { kind: 'duplicate'; message: Message; version?: number }
  | { kind: 'conflict'; message: Message }
  | { kind: 'unchanged'; message: Message }
  | { kind: 'refused'; reason: 'not_member' | 'stale' | ChangeRefusal; message?: undefined };

/**
 * Why the store refused a message change, named as the error code the client gets: no such message
 * (or an event, or before the sender joined the group), someone else's, a forwarded copy edited,
 * too old to edit, deleted already, or a fourth reaction.
 */
export type ChangeRefusal = 'message_not_found' | 'not_sender' | 'not_editable' | 'edit_window_closed' | 'message_deleted' | 'too_many_reactions';

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
  /**
   * Messages of a room with `seq > after`, oldest first, at most `limit`. Every read returns messages
   * in their current state (edited body and `editedAt`, tombstone, reactions, `rev`) and a reply's
   * preview of its original as the original is now; change entries stay in place (gap-free pages).
   */
  after(room: string, after: number, limit: number): Promise<Message[]>;
  /** Messages of a room with `seq < before` (all when undefined), newest first, at most `limit`. */
  before(room: string, before: number | undefined, limit: number): Promise<Message[]>;
  /** The entries of a room with these seqs, in their current state, ascending; missing seqs are left out. */
  at(room: string, seqs: readonly number[]): Promise<Message[]>;
  /**
   * The text messages (no event or change entries) `sender` sent in `room` with `seq > after`,
   * oldest first, at most `limit`, in their current state: an account's export reads them page by
   * page, never all at once. Reads the room's messages in seq order (its primary index) and keeps
   * the sender's, so a page costs at most the room's messages up to it and no write pays for another index.
   */
  sentBy(room: string, sender: number, after: number, limit: number): Promise<Message[]>;
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
