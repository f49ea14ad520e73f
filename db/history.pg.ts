/**
 * The history store on PostgreSQL (and on PGlite, the embedded default). Each room's seq counter
 * lives in `history_rooms`; bumping it in the same statement as the insert keeps seqs gap-free,
 * and its row lock orders concurrent appends to a room, also across router nodes.
 */
import type { Knex } from 'knex';
import { isMessageChange, roomKindOf, type Attachment, type GroupRole, type LogEvent } from '../protocol/frames.ts';
import { appendBatch, keyOf, outcomesOf, type GroupWrite } from './history.batch.ts';
import { replyPreviewOf, type TargetKey, type TargetWrite } from './history.changes.ts';
import { HistoryContentError, type AppendOutcome, type GroupState, type HistoryStore, type Message, type NewMessage } from './history.port.ts';
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

/** Seqs of a room one query of `sentBy` looks at. */
const SENT_BY_WINDOW = 2000;

const COLUMNS = ['room_id', 'seq', 'id', 'sender', 'body', 'client_msg_id', 'ts', 'event', 'forwarded', 'attachments', 'rev', 'edited_at', 'deleted', 'reactions', 'reply_to'] as const;

/** A message with its reply's original as it is now (`r_*`, null when it is not a reply). */
type ReadRow = MessageRow & { r_sender?: number | null; r_body?: string | null; r_deleted?: boolean | null };

/** Messages in their current state, each reply with its original's current sender, body and tombstone. */
function readMessages(db: Knex | Knex.Transaction): Knex.QueryBuilder {
  return db('history_messages as m')
    .leftJoin('history_messages as r', (j) => j.on('r.room_id', 'm.room_id').andOn('r.seq', 'm.reply_to'))
    .select([...COLUMNS.map((c) => `m.${c}`), 'r.sender as r_sender', 'r.body as r_body', 'r.deleted as r_deleted']);
}

interface MessageRow {
  room_id: string;
  seq: number | string;
  id: string;
  sender: number;
  body: string;
  client_msg_id: string;
  ts: number | string;
  /** An event entry's event; null (or absent, from the append function) for a text message. */
  event?: LogEvent | null;
  forwarded?: { sender: number; name: string } | null;
  attachments?: Attachment[] | null;
  rev?: number | string | null;
  edited_at?: number | string | null;
  deleted?: boolean;
  reactions?: Record<string, number[]> | null;
  reply_to?: number | string | null;
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
    // Plain 1:1 messages keep their one-statement path. A room with a group entry, a reply, a forward
    // or a message change in the batch goes, all of it (its seqs follow the batch's order), through a
    // transaction that checks membership and judges changes. That part goes first: when it fails
    // nothing was written, so the batcher may split and retry the batch as it does any other.
    const slow = new Set(batch.filter(needsTransaction).map((m) => m.room));
    const inTransaction = batch.map((m) => slow.has(m.room));
    if (!inTransaction.includes(true)) return this.#retried(() => appendOnce(this.#append, batch));
    const judged = await this.#retried(() => this.#appendWithGroups(batch.filter((_, i) => inTransaction[i])));
    const plain = batch.filter((_, i) => !inTransaction[i]);
    const plains = plain.length > 0 ? await this.#retried(() => appendOnce(this.#append, plain)) : [];
    let j = 0;
    let p = 0;
    return inTransaction.map((judge) => (judge ? judged[j++] : plains[p++])!);
  }

  /** Runs one write, once more after a conflict a second attempt resolves (see RETRYABLE_CODES). */
  async #retried(once: () => Promise<AppendOutcome[]>): Promise<AppendOutcome[]> {
    try {
      return await once();
    } catch (err) {
      if (!RETRYABLE_CODES.has(errorCode(err))) throw classify(err);
      return await once().catch((again: unknown) => Promise.reject(classify(again)));
    }
  }

  /**
   * A batch with group entries, in one transaction of several statements: the groups' counter rows
   * are locked first (sorted), so their members cannot change under the checks; every other room's
   * counter is locked after them, in sorted order, by the bump.
   */
  #appendWithGroups(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
    return this.#db.transaction((trx) =>
      appendBatch(batch, {
        findExisting: async (b) => {
          const keys = [...new Map(b.map((m) => [keyOf(m), m])).values()];
          const rows: ReadRow[] = await readMessages(trx).whereIn(['m.room_id', 'm.sender', 'm.client_msg_id'], keys.map((m) => [m.room, m.sender, m.clientMsgId]));
          return rows.map(toMessage);
        },
        loadGroups: async (rooms) => {
          const locked: Array<{ room_id: string; members_version: number | string }> = await trx('history_rooms')
            .select('room_id', 'members_version')
            .whereIn('room_id', [...rooms])
            .orderBy('room_id')
            .forUpdate();
          const members: Array<{ room_id: string; user_id: number; role: GroupRole; joined_seq: number | string }> = await trx('history_group_members')
            .select('room_id', 'user_id', 'role', 'joined_seq')
            .whereIn('room_id', [...rooms]);
          const states = new Map<string, GroupState | null>(rooms.map((r) => [r, null]));
          for (const row of locked) {
            if (Number(row.members_version) > 0) states.set(row.room_id, { version: Number(row.members_version), members: [] });
          }
          for (const m of members) states.get(m.room_id)?.members.push({ user: m.user_id, role: m.role, joinedSeq: Number(m.joined_seq) });
          return states;
        },
        reserveSeqs: async (perRoom) => {
          const rows: Array<{ room_id: string; last_seq: number | string }> = (
            await trx.raw(
              `INSERT INTO history_rooms AS h (room_id, last_seq)
               SELECT * FROM unnest(?::text[], ?::int8[]) ORDER BY 1
               ON CONFLICT (room_id) DO UPDATE SET last_seq = h.last_seq + excluded.last_seq
               RETURNING h.room_id, h.last_seq`,
              [[...perRoom.keys()], [...perRoom.values()]],
            )
          ).rows;
          return new Map(rows.map((r) => [r.room_id, Number(r.last_seq) - perRoom.get(r.room_id)! + 1]));
        },
        insert: async (stored) => {
          await trx('history_messages').insert(
            stored.map((m) => ({
              room_id: m.room,
              seq: m.seq,
              id: m.id,
              sender: m.sender,
              body: m.body,
              client_msg_id: m.clientMsgId,
              ts: m.ts,
              event: m.event ? JSON.stringify(m.event) : null,
              target_seq: isMessageChange(m.event) ? m.event.seq : null,
              reply_to: m.replyTo?.seq ?? null,
              forwarded: m.forwarded ? JSON.stringify(m.forwarded) : null,
              attachments: m.attachments ? JSON.stringify(m.attachments) : null,
            })),
          );
        },
        saveGroups: (writes) => saveGroups(trx, writes),
        loadTargets: (keys) => loadTargets(trx, keys),
        saveTargets: (writes) => saveTargets(trx, writes),
      }),
    );
  }

  async groupState(room: string): Promise<GroupState | null> {
    const row: { members_version: number | string } | undefined = await this.#db('history_rooms').first('members_version').where('room_id', room);
    if (!row || Number(row.members_version) === 0) return null;
    const members: Array<{ user_id: number; role: GroupRole; joined_seq: number | string }> = await this.#db('history_group_members')
      .select('user_id', 'role', 'joined_seq')
      .where('room_id', room)
      .orderBy('user_id');
    return { version: Number(row.members_version), members: members.map((m) => ({ user: m.user_id, role: m.role, joinedSeq: Number(m.joined_seq) })) };
  }

  async after(room: string, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const rows: ReadRow[] = await readMessages(this.#db).where('m.room_id', room).andWhere('m.seq', '>', after).orderBy('m.seq', 'asc').limit(limit);
    return rows.map(toMessage);
  }

  async sentBy(room: string, sender: number, after: number, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const last = await this.lastSeq(room);
    const found: Message[] = [];
    // A window of seqs at a time: without statistics (PGlite keeps none) the planner reads the whole
    // rest of the room for every page and sorts it, which makes an export quadratic; a window
    // bounds each query to SENT_BY_WINDOW rows whatever plan it gets.
    for (let from = after; from < last && found.length < limit; from += SENT_BY_WINDOW) {
      const rows: ReadRow[] = await readMessages(this.#db)
        .where('m.room_id', room)
        .andWhere('m.seq', '>', from)
        .andWhere('m.seq', '<=', from + SENT_BY_WINDOW)
        // Not `sender = ?`, which the (room, sender, clientMsgId) index would serve by reading
        // every message of the sender in the room: `IS TRUE` is no index condition.
        .andWhereRaw('(m.sender = ?) IS TRUE', [sender])
        .whereNull('m.event')
        .orderBy('m.seq', 'asc')
        .limit(limit - found.length);
      found.push(...rows.map(toMessage));
    }
    return found;
  }

  async at(room: string, seqs: readonly number[]): Promise<Message[]> {
    if (seqs.length === 0) return [];
    const rows: ReadRow[] = await readMessages(this.#db).where('m.room_id', room).whereIn('m.seq', [...seqs]).orderBy('m.seq', 'asc');
    return rows.map(toMessage);
  }

  async before(room: string, before: number | undefined, limit: number): Promise<Message[]> {
    if (limit <= 0) return [];
    const query = readMessages(this.#db).where('m.room_id', room);
    if (before !== undefined) query.andWhere('m.seq', '<', before);
    const rows: ReadRow[] = await query.orderBy('m.seq', 'desc').limit(limit);
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
  return outcomesOf(batch, outcomes.filter(Boolean).map((o) => o.message!), existing);
}

/** Entries the one-statement append cannot write: a group's, a reply, a forward, a message change. */
function needsTransaction(m: NewMessage): boolean {
  return roomKindOf(m.room) === 'group' || m.event !== undefined || m.replyTo !== undefined || m.forwarded !== undefined || m.attachments !== undefined;
}

function toMessage(row: ReadRow): Message {
  const message: Message = {
    id: row.id,
    room: row.room_id,
    seq: Number(row.seq),
    sender: Number(row.sender),
    body: row.body,
    clientMsgId: row.client_msg_id,
    ts: Number(row.ts),
  };
  if (row.event) {
    message.kind = 'event';
    message.event = row.event;
  }
  if (row.reply_to != null) {
    const seq = Number(row.reply_to);
    message.replyTo = row.r_sender == null ? { seq, sender: 0, preview: '', deleted: true } : replyPreviewOf({ seq, sender: Number(row.r_sender), body: row.r_body ?? '', ...(row.r_deleted ? { deleted: true } : {}) });
  }
  if (row.forwarded) message.forwarded = row.forwarded;
  if (row.attachments) message.attachments = row.attachments;
  if (row.rev != null) message.rev = Number(row.rev);
  if (row.edited_at != null) message.editedAt = Number(row.edited_at);
  if (row.deleted) message.deleted = true;
  if (row.reactions && Object.keys(row.reactions).length > 0) message.reactions = row.reactions;
  return message;
}

/** The targets of a batch's changes and replies, locked (sorted by key) until the commit ends. */
async function loadTargets(trx: Knex.Transaction, keys: readonly TargetKey[]): Promise<Message[]> {
  const rows: MessageRow[] = await trx('history_messages')
    .select(COLUMNS)
    .whereIn(['room_id', 'seq'], keys.map((k) => [k.room, k.seq]))
    .orderBy(['room_id', 'seq'])
    .forUpdate();
  return rows.map(toMessage);
}

/** The changed messages' new state; a deletion also erases the bodies of the edits naming it. */
async function saveTargets(trx: Knex.Transaction, writes: readonly TargetWrite[]): Promise<void> {
  for (const { target: m, erase } of writes) {
    await trx('history_messages')
      .where({ room_id: m.room, seq: m.seq })
      .update({
        body: m.body,
        rev: m.rev ?? null,
        edited_at: m.editedAt ?? null,
        deleted: m.deleted === true,
        reactions: m.reactions ? JSON.stringify(m.reactions) : null,
        forwarded: m.forwarded ? JSON.stringify(m.forwarded) : null,
        attachments: m.attachments ? JSON.stringify(m.attachments) : null,
      });
    if (erase) {
      await trx.raw(
        `UPDATE history_messages SET event = jsonb_set(event, '{body}', '""'::jsonb), body = ''
          WHERE room_id = ? AND target_seq = ? AND event->>'type' = 'message.edited'`,
        [m.room, m.seq],
      );
    }
  }
}

/** The members a commit touched, as it left them, and each group's new version. */
async function saveGroups(trx: Knex.Transaction, writes: readonly GroupWrite[]): Promise<void> {
  for (const { room, state, touched } of writes) {
    await trx('history_group_members').where('room_id', room).whereIn('user_id', touched).delete();
    const touchedSet = new Set(touched);
    const rows = state.members.filter((m) => touchedSet.has(m.user)).map((m) => ({ room_id: room, user_id: m.user, role: m.role, joined_seq: m.joinedSeq }));
    if (rows.length > 0) await trx('history_group_members').insert(rows);
    await trx('history_rooms').where('room_id', room).update({ members_version: state.version });
  }
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
