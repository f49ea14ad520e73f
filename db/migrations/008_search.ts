/**
 * Full-text search over the PostgreSQL history (db/search.pg.ts): a tsvector per text message,
 * kept by PostgreSQL itself (a stored generated column, so the group commit's append function,
 * edits and deletions need nothing: an edit or an erased body recomputes it), and a GIN index on it.
 *
 * - Only text messages: group events and change entries carry `event` and get no vector, and an
 *   erased body ('' after "delete for everyone") gets none either.
 * - The `simple` configuration: no stemming and no stop words, so every language is searched the
 *   same way, by its words as written (lower-cased).
 * - Words are split as protocol/search.ts splits them: ASCII punctuation becomes a space first, so
 *   the parser's compound tokens (e-mail addresses, URLs, host and file names, version numbers,
 *   hyphenated words) come apart into their words, and "example" finds "bob@example.com". The
 *   parser itself separates on other symbols, emoji and spaces, and keeps combining marks inside
 *   words. NFC first, as the query is.
 *
 * Adding a stored column rewrites the table once (minutes for tens of millions of messages).
 */
import type { Knex } from 'knex';

const SEARCH_VECTOR_SQL = String.raw`CASE WHEN event IS NULL AND body <> '' THEN to_tsvector('simple'::regconfig, regexp_replace(normalize(body, NFC), '[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+', ' ', 'g')) END`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE history_messages ADD COLUMN search tsvector GENERATED ALWAYS AS (${SEARCH_VECTOR_SQL}) STORED`);
  await knex.raw('CREATE INDEX history_messages_search ON history_messages USING gin (search)');
  // The planner reads a user's rooms through the primary key for a common word and the word's rows
  // through the GIN index for a rare one, by the word's frequency in the column's statistics. With
  // the default target (100) they track the 1,000 most common words, and a word just below those,
  // in thousands of rows, looks rare; 1,000 tracks 10,000 words (ANALYZE samples 300,000 rows).
  await knex.raw('ALTER TABLE history_messages ALTER COLUMN search SET STATISTICS 1000');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS history_messages_search');
  await knex.raw('ALTER TABLE history_messages DROP COLUMN IF EXISTS search');
}
