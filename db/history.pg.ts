/**
 * The history store on PostgreSQL (and on PGlite, the embedded default). Each room's seq counter
 * lives in `history_rooms`; bumping it in the same transaction as the insert keeps seqs gap-free,
 * and its row lock orders concurrent appends to a room, also across router nodes.
 */
import type { Knex } from 'knex';
import { appendBatch, keyOf } from './history.batch.ts';
import type { AppendOutcome, HistoryStore, Message, NewMessage } from './history.port.ts';

/**
 * Errors after which one more attempt of the whole batch succeeds: another node stored the same
 * clientMsgId between our lookup and our insert (unique_violation; the retry finds it), deadlock,
 * serialization failure.
 */
const RETRYABLE_CODES = new Set(['23505', '40P01', '40001']);

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

export class PgHistoryStore implements HistoryStore {
  readonly #db: Knex;

  /** Uses a knex instance from `openRelational`; the caller owns it and destroys it. */
  constructor(db: Knex) {
    this.#db = db;
  }

  async append(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    if (batch.length === 0) return [];
    try {
      return await this.#db.transaction((trx) => appendIn(trx, batch));
    } catch (err) {
      if (!RETRYABLE_CODES.has(errorCode(err))) throw err;
      return await this.#db.transaction((trx) => appendIn(trx, batch));
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
 * One attempt at a batch inside a transaction: three statements whatever the batch size (lookup,
 * counters, insert), each taking whole columns as arrays through `unnest`.
 */
function appendIn(trx: Knex.Transaction, batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
  return appendBatch(batch, {
    findExisting: async (b) => (await findExisting(trx, b)).map(toMessage),
    reserveSeqs: (perRoom) => bumpCounters(trx, perRoom),
    insert: (stored) => insertMessages(trx, stored),
  });
}

/** Step (a): the already-stored messages among the batch's (room, sender, clientMsgId) keys. */
async function findExisting(trx: Knex.Transaction, batch: readonly NewMessage[]): Promise<MessageRow[]> {
  const unique = new Map<string, NewMessage>();
  for (const m of batch) unique.set(keyOf(m), m);
  const keys = [...unique.values()];
  const { rows } = await trx.raw<{ rows: MessageRow[] }>(
    `SELECT m.room_id, m.seq, m.id, m.sender, m.body, m.client_msg_id, m.ts
       FROM unnest(?::text[], ?::int[], ?::text[]) AS k(room_id, sender, client_msg_id)
       JOIN history_messages m
         ON m.room_id = k.room_id AND m.sender = k.sender AND m.client_msg_id = k.client_msg_id`,
    [keys.map((k) => k.room), keys.map((k) => k.sender), keys.map((k) => k.clientMsgId)],
  );
  return rows;
}

/**
 * Step (c): reserves `count` seqs per room and returns each room's first reserved seq. Rooms go
 * in sorted order so two nodes locking overlapping rooms always lock them in the same order.
 */
async function bumpCounters(trx: Knex.Transaction, perRoom: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const rooms = [...perRoom.keys()];
  const { rows } = await trx.raw<{ rows: { room_id: string; last_seq: number | string }[] }>(
    `INSERT INTO history_rooms (room_id, last_seq)
     SELECT room_id, n FROM unnest(?::text[], ?::int8[]) WITH ORDINALITY AS c(room_id, n, ord) ORDER BY ord
     ON CONFLICT (room_id) DO UPDATE SET last_seq = history_rooms.last_seq + excluded.last_seq
     RETURNING room_id, last_seq`,
    [rooms, rooms.map((r) => perRoom.get(r)!)],
  );
  return new Map(rows.map((r) => [r.room_id, Number(r.last_seq) - perRoom.get(r.room_id)! + 1]));
}

/** Step (e): every new row in one statement. */
async function insertMessages(trx: Knex.Transaction, stored: readonly Message[]): Promise<void> {
  await trx.raw(
    `INSERT INTO history_messages (room_id, seq, id, sender, body, client_msg_id, ts)
     SELECT room_id, seq, id, sender, body, client_msg_id, ts
       FROM unnest(?::text[], ?::int8[], ?::uuid[], ?::int[], ?::text[], ?::text[], ?::int8[])
         AS t(room_id, seq, id, sender, body, client_msg_id, ts)`,
    [
      stored.map((m) => m.room),
      stored.map((m) => m.seq),
      stored.map((m) => m.id),
      stored.map((m) => m.sender),
      stored.map((m) => m.body),
      stored.map((m) => m.clientMsgId),
      stored.map((m) => m.ts),
    ] as Knex.Value[],
  );
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

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
}
