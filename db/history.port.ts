/**
 * The history store: every chat message, durably, with a gap-free sequence number per room.
 * Two implementations keep the same contract (db/test/history.contract.ts): PostgreSQL
 * (history.pg.ts, also on PGlite) and MongoDB (history.mongo.ts).
 */
import type { Message } from '../protocol/frames.ts';

export type { Message };

/** A message as the router hands it to the store: no id, seq or timestamp yet. */
export interface NewMessage {
  room: string;
  sender: number;
  body: string;
  clientMsgId: string;
}

/**
 * What happened to one appended message.
 * - `stored`: new; it got the room's next seq.
 * - `duplicate`: (room, sender, clientMsgId) was stored before with the same body; the original is returned.
 * - `conflict`: that clientMsgId was stored before with a different body; the original is returned, nothing stored.
 */
export type AppendOutcome =
  | { kind: 'stored'; message: Message }
  | { kind: 'duplicate'; message: Message }
  | { kind: 'conflict'; message: Message };

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
