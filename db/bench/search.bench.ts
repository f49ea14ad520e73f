/**
 * Search latency on a real PostgreSQL at scale: 1,000,000 messages over 10,000 rooms, and a user
 * in 50 of them (40 from their start, 10 groups joined late, 3 of those left). It creates a
 * database of its own, loads it server-side (INSERT ... SELECT over generate_series, bodies of
 * 6-16 words drawn with a skew from a vocabulary of 5,000 made-up words, so a few words are in
 * most messages and most are rare), searches, prints, and drops the database.
 *
 *   npx tsx db/bench/search.bench.ts [--rooms 10000] [--per-room 100] [--queries 400] [--keep]
 *
 * Printed for each kind of query (a common word, a middling one, a rare one, two words, a prefix,
 * a word nobody wrote) and for all together: p50, p95 and p99 of
 * - `store`: PgSearchStore.search, a page of 20, as the route calls it (target: p95 <= 50 ms);
 * - `+snippets`: the store and the snippet of every hit (protocol/search.ts), the route's own
 *   work above the store but for reading the scope (one query of the relational store) and
 *   encoding the cursor (one SHA-256); the router is a layer above this folder;
 * - `ilike`: the baseline, the same scope, order and page with `body ILIKE '%word%'` per word and
 *   no word index, what a search without this index would cost.
 * and the plans PostgreSQL chose (EXPLAIN ANALYZE) for a common, a rare and a prefix query.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { searchSnippet } from '../../protocol/search.ts';
import { openRelational } from '../relational.ts';
import { PgSearchStore, searchParams, searchSql } from '../search.pg.ts';
import type { SearchRequest, SearchWindow } from '../search.port.ts';
import { benchConfig } from './bench.config.ts';

const { values: opts } = parseArgs({
  options: {
    rooms: { type: 'string', default: '10000' },
    'per-room': { type: 'string', default: '100' },
    queries: { type: 'string', default: '400' },
    keep: { type: 'boolean', default: false },
  },
});
const roomCount = Number(opts.rooms);
const perRoom = Number(opts['per-room']);
const queryCount = Number(opts.queries);
const TARGET_P95_MS = 50;
const PAGE = 20;

/** 5,000 distinct pronounceable words, the same every run; index 0 is drawn most often. */
function vocabulary(): string[] {
  const c = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z'];
  const v = ['a', 'e', 'i', 'o', 'u'];
  const words: string[] = [];
  for (let i = 0; words.length < 5000; i++) {
    let n = i;
    let w = '';
    for (let syl = 0; syl < 2 + (i % 3); syl++) {
      w += c[n % c.length]! + v[Math.floor(n / c.length) % v.length]!;
      n = Math.floor(n / (c.length * v.length)) + syl * 7 + i;
    }
    if (!words.includes(w)) words.push(w);
  }
  return words;
}

const vocab = vocabulary();
const name = `bench_search_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: benchConfig.databaseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(benchConfig.databaseUrl);
url.pathname = `/${name}`;
const db = await openRelational({ databaseUrl: url.toString() });

try {
  // Loaded without the GIN index and indexed after: one index build instead of a million inserts into it.
  console.log(`loading ${(roomCount * perRoom).toLocaleString('en')} messages over ${roomCount.toLocaleString('en')} rooms ...`);
  let started = performance.now();
  await db.raw('DROP INDEX history_messages_search');
  // power(random(), 3): word 0 is in most messages, the last ones in very few. A word index per
  // row (the lateral subquery names the row) so every message draws its own words.
  await db.raw(
    `INSERT INTO history_messages (room_id, seq, id, sender, body, client_msg_id, ts)
     SELECT 'room' || r, s, gen_random_uuid(), 1 + (r * 7 + s) % 40, b.body, 'c' || r || '-' || s,
            1700000000000 + s * 600000 + r * 37
       FROM generate_series(0, ? - 1) r, generate_series(1, ?) s,
            LATERAL (SELECT string_agg((?::text[])[1 + floor(power(random(), 3) * ?)::int], ' ') AS body
                       FROM generate_series(1, 6 + ((r + s) % 11)) k) b`,
    [roomCount, perRoom, vocab, vocab.length],
  );
  console.log(`  inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  started = performance.now();
  await db.raw('CREATE INDEX history_messages_search ON history_messages USING gin (search)');
  await db.raw('ANALYZE history_messages');
  console.log(`  GIN index built and analysed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const size = await db.raw<{ rows: Array<{ t: string; i: string }> }>(
    `SELECT pg_size_pretty(pg_table_size('history_messages')) t, pg_size_pretty(pg_relation_size('history_messages_search')) i`,
  );
  console.log(`  table ${size.rows[0]!.t}, GIN index ${size.rows[0]!.i}`);

  // The user: 50 rooms spread over the table; 10 of them groups joined at seq 40, 3 of those left at 80.
  const scope: SearchWindow[] = Array.from({ length: 50 }, (_, i) => {
    const room = `room${i * Math.floor(roomCount / 50) + 3}`;
    if (i < 40) return { room, from: 1 };
    return i < 47 ? { room, from: 40 } : { room, from: 40, to: 80 };
  });

  const pick = (from: number, to: number) => vocab[from + Math.floor(Math.random() * (to - from))]!;
  const kinds: Record<string, () => string[]> = {
    'common word': () => [pick(0, 5)],
    'middling word': () => [pick(100, 400)],
    'rare word': () => [pick(3500, 5000)],
    'two words': () => [pick(0, 50), pick(50, 500)],
    'prefix (3 letters)': () => [pick(20, 2000).slice(0, 3)],
    'absent word': () => ['zzzq'],
  };
  const store = new PgSearchStore(db);
  const withSnippets = async (request: SearchRequest) => (await store.search(request)).map((m) => searchSnippet(m.body, request.words));

  const ilike = (request: SearchRequest) => {
    const sql = `SELECT m.room_id, m.seq, m.sender, m.ts, m.body
      FROM unnest(?::text[], ?::int8[], ?::int8[]) AS w(room_id, lo, hi)
      JOIN history_messages m ON m.room_id = w.room_id AND m.seq BETWEEN w.lo AND w.hi
     WHERE ${request.words.map(() => 'm.body ILIKE ?').join(' AND ')} AND m.event IS NULL AND m.body <> ''
     ORDER BY m.ts DESC, m.room_id COLLATE "C" DESC, m.seq DESC LIMIT ?`;
    const [rooms, from, to] = searchParams(request);
    return db.raw(sql, [rooms, from, to, ...request.words.map((w) => `%${w}%`), request.limit] as never[]);
  };

  const samples: Record<string, Record<'store' | 'route' | 'ilike', number[]>> = {};
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  // Warm the caches a little (the first queries read the pages from disk).
  for (let i = 0; i < 20; i++) await store.search({ words: kinds['common word']!(), scope, limit: PAGE });
  const names = Object.keys(kinds);
  let hits = 0;
  for (let i = 0; i < queryCount; i++) {
    const kind = names[i % names.length]!;
    const words = kinds[kind]!();
    const request = { words, scope, limit: PAGE };
    const s = (samples[kind] ??= { store: [], route: [], ilike: [] });
    s.store.push(await time(async () => (hits += (await store.search(request)).length)));
    s.route.push(await time(() => withSnippets(request)));
    s.ilike.push(await time(() => ilike(request)));
  }

  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  };
  const fmt = (xs: number[]) => [50, 95, 99].map((p) => pct(xs, p).toFixed(2).padStart(8)).join(' ');
  console.log(`\n${queryCount} queries, page of ${PAGE}, user in ${scope.length} rooms; ms: p50 p95 p99 (store | store+snippets | ilike baseline)`);
  const all = { store: [] as number[], route: [] as number[], ilike: [] as number[] };
  for (const kind of names) {
    const s = samples[kind]!;
    for (const k of ['store', 'route', 'ilike'] as const) all[k].push(...s[k]);
    console.log(`${kind.padEnd(20)} ${fmt(s.store)} | ${fmt(s.route)} | ${fmt(s.ilike)}`);
  }
  console.log(`${'all'.padEnd(20)} ${fmt(all.store)} | ${fmt(all.route)} | ${fmt(all.ilike)}`);
  const p95 = pct(all.store, 95);
  console.log(`store p95 ${p95.toFixed(2)} ms against the target of ${TARGET_P95_MS} ms: ${p95 <= TARGET_P95_MS ? 'met' : 'MISSED'} (${hits} hits returned)`);

  for (const [kind, words] of [['common word', [vocab[0]!]], ['rare word', [vocab[4990]!]], ['prefix', [vocab[300]!.slice(0, 3)]]] as const) {
    const request = { words, scope, limit: PAGE };
    const plan = await db.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>(`EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) ${searchSql(false)}`, searchParams(request) as never[]);
    console.log(`\nplan for a ${kind} (${words.join(' ')}):\n${plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);
  }
} finally {
  await db.destroy();
  if (opts.keep) console.log(`kept database ${name}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
