/**
 * Search on PostgreSQL (and PGlite): the `search` tsvector of history_messages and its GIN index
 * (migration 008). The query's words become a tsquery `w1 & w2 & w3:*`, passed as a parameter:
 * the words hold only letters, digits and marks (protocol/search.ts), so nothing a client types
 * reaches the tsquery syntax, and nothing at all reaches the SQL text.
 *
 * The scope travels as three arrays joined to the table, so the planner may read it either way:
 * the scope's rooms through the (room_id, seq) key, testing each row's vector (few messages in
 * scope, or a common word), or the word's rows through the GIN index, kept if in scope (a rare
 * word). db/bench/search.bench.ts measures both and prints the plan it chose.
 */
import type { Knex } from 'knex';
import { storeWords, type FoundMessage, type SearchRequest, type SearchStore } from './search.port.ts';

/** The end of an open window: beyond any seq. */
const NO_END = Number.MAX_SAFE_INTEGER;

interface FoundRow {
  room_id: string;
  seq: number | string;
  sender: number;
  ts: number | string;
  body: string;
}

/** The tsquery text of normalised words: all of them, the last also as a prefix. */
export function tsqueryOf(words: readonly string[]): string {
  return words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(' & ');
}

/**
 * The statement, with its parameters: rooms, window starts, window ends, tsquery, then the cursor
 * (ts, room, seq) when there is one, then the limit. Rooms compare in binary order (COLLATE "C"),
 * as MongoDB and JavaScript compare them, whatever the database's collation.
 */
export function searchSql(withCursor: boolean): string {
  return `SELECT m.room_id, m.seq, m.sender, m.ts, m.body
  FROM unnest(?::text[], ?::int8[], ?::int8[]) AS w(room_id, lo, hi)
  JOIN history_messages m ON m.room_id = w.room_id AND m.seq BETWEEN w.lo AND w.hi
 WHERE m.search @@ to_tsquery('simple', ?)
   AND m.event IS NULL AND m.body <> ''
   ${withCursor ? 'AND (m.ts, m.room_id COLLATE "C", m.seq) < (?::int8, ?::text COLLATE "C", ?::int8)' : ''}
 ORDER BY m.ts DESC, m.room_id COLLATE "C" DESC, m.seq DESC
 LIMIT ?`;
}

/** The parameters of searchSql for `request`. */
export function searchParams(request: SearchRequest): unknown[] {
  const { scope, words, after, limit } = request;
  return [
    scope.map((w) => w.room),
    scope.map((w) => w.from),
    scope.map((w) => w.to ?? NO_END),
    tsqueryOf(words),
    ...(after ? [after.ts, after.room, after.seq] : []),
    limit,
  ];
}

export class PgSearchStore implements SearchStore {
  readonly #db: Knex;

  /** Uses a knex instance from `openRelational` (migrated); the caller owns it. */
  constructor(db: Knex) {
    this.#db = db;
  }

  async search(asked: SearchRequest): Promise<FoundMessage[]> {
    const request = { ...asked, words: storeWords(asked.words) };
    if (request.limit <= 0 || request.scope.length === 0 || request.words.length === 0) return [];
    const { rows } = await this.#db.raw<{ rows: FoundRow[] }>(searchSql(request.after !== undefined), searchParams(request) as Knex.RawBinding[]);
    return rows.map((r) => ({ room: r.room_id, seq: Number(r.seq), sender: Number(r.sender), ts: Number(r.ts), body: r.body }));
  }
}
