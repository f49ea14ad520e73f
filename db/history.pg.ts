/**
 * The history store on PostgreSQL (and on PGlite, the embedded default). Each room's seq counter
 * lives in `history_rooms`; bumping it in the same statement as the insert keeps seqs gap-free,
 * and its row lock orders concurrent appends to a room, also across router nodes.
 */
import type { Knex } from 'knex';
import { outcomesOf } from './history.batch.ts';
import { HistoryContentError, type AppendOutcome, type HistoryStore, type Message, type NewMessage } from './history.port.ts';
import { prepare, type PreparedStatement } from './relational.prepared.ts';
import { uuid7 } from './uuid7.ts';

/**
 * Errors after which one more attempt of the whole batch succeeds: another node stored the same
 * clientMsgId between our lookup and our insert (unique_violation; the retry finds it), deadlock,
 * serialization failure.
 */
const RETRYABLE_CODES = new Set(['23505', '40P01', '40001']);

/**
 * SQLSTATE classes of a statement refused for what it was given, so the same batch fails again
 * and a part of it may not: 22 data exception (a NUL in a text is 22021 on the server, 22P05 where
 * the text cannot be converted; a number out of range is 22003) and 54 program limit exceeded (a
 * value or an array over a limit). Not 23 (integrity): our only constraint that input can trip is
 * the unique key, and that is a race, retried above, not content.
 */
const CONTENT_CLASSES = new Set(['22', '54']);

const COLUMNS = ['room_id', 'seq', 'id', 'sender', 'body', 'client_msg_id', 'ts'] as const;

interface MessageRow {
  room_id: string;
  seq: number | string;
  id: string;
  sender: number;
  body: string;
  client_msg_id: string;
  ts: number | string;
}

/** A stored message comes back as its input position and seq; an existing one whole, without `ord`. */
type AppendRow = { ord: number; seq: number | string } | (MessageRow & { ord: null });

export class PgHistoryStore implements HistoryStore {
  readonly #db: Knex;
  readonly #append: PreparedStatement<AppendRow>;

  /** Uses a knex instance from `openRelational`; the caller owns it and destroys it. */
  constructor(db: Knex) {
    this.#db = db;
    // The group commit runs this for every batch: prepared, it skips knex's per-query work here
    // and parsing there (the function's own plan is cached, see migration 005).
    this.#append = prepare(db, 'history_append', APPEND_SQL);
  }

  async append(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    if (batch.length === 0) return [];
    try {
      return await appendOnce(this.#append, batch);
    } catch (err) {
      if (!RETRYABLE_CODES.has(errorCode(err))) throw classify(err);
      return await appendOnce(this.#append, batch).catch((again: unknown) => Promise.reject(classify(again)));
    }
  }

  async after(room: string, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const rows: MessageRow[] = await this.#db('history_messages')
      .select(COLUMNS)
      .where('room_id', room)
      .andWhere('seq', '>', after)
      .orderBy('seq', 'asc')
      .limit(limit);
    return rows.map(toMessage);
  }

  async before(room: string, before: number | undefined, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const query = this.#db('history_messages').select(COLUMNS).where('room_id', room);
    if (before !== undefined) query.andWhere('seq', '<', before);
    const rows: MessageRow[] = await query.orderBy('seq', 'desc').limit(limit);
    return rows.map(toMessage);
  }

  async lastSeq(room: string): Promise<number> {
    const row: { last_seq: number | string } | undefined = await this.#db('history_rooms')
      .first('last_seq')
      .where('room_id', room);
    return row ? Number(row.last_seq) : 0;
  }

  async ping(): Promise<void> {
    await this.#db.raw('select 1');
  }

  async close(): Promise<void> {
    // The knex instance belongs to the caller, who may share it with the Objection models.
  }
}

/**
 * The whole append is one call of `history_append` (migration 005, which says what it does and why
 * it is a function): one round trip and one implicit transaction whatever the batch size. Columns
 * travel as arrays.
 */
const APPEND_SQL = 'SELECT * FROM history_append(?::text[], ?::int[], ?::text[], ?::text[], ?::uuid[], ?::int8)';

async function appendOnce(run: PreparedStatement<AppendRow>, batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
  const ids = batch.map(() => uuid7());
  const ts = Date.now();
  const rows = await run([
    batch.map((m) => m.room),
    batch.map((m) => m.sender),
    batch.map((m) => m.clientMsgId),
    batch.map((m) => m.body),
    ids,
    ts,
  ]);
  // A stored message is the input plus its id, ts and seq: only the seq comes back, by position.
  const outcomes: AppendOutcome[] = new Array(batch.length);
  const existing: Message[] = [];
  let storedCount = 0;
  for (const row of rows) {
    if (row.ord === null) {
      existing.push(toMessage(row));
      continue;
    }
    const i = row.ord - 1;
    const m = batch[i]!;
    outcomes[i] = { kind: 'stored', message: { id: ids[i]!, room: m.room, seq: Number(row.seq), sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, ts } };
    storedCount++;
  }
  if (storedCount === batch.length) return outcomes;
  // Retries and repeats: judged against what was there and what this batch stored.
  return outcomesOf(batch, outcomes.filter(Boolean).map((o) => o.message), existing);
}

function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    room: row.room_id,
    seq: Number(row.seq),
    sender: Number(row.sender),
    body: row.body,
    clientMsgId: row.client_msg_id,
    ts: Number(row.ts),
  };
}

/** A refusal of the batch's content as a HistoryContentError; any other error as it is. */
function classify(err: unknown): unknown {
  const code = errorCode(err);
  if (!CONTENT_CLASSES.has(code.slice(0, 2))) return err;
  return new HistoryContentError(`PostgreSQL refused the batch's content (SQLSTATE ${code})`, { cause: err });
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}
