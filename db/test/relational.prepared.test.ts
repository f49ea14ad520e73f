import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import { prepare } from '../relational.prepared.ts';
import { openRelational } from '../relational.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

/** What a prepared statement does on every database. */
function preparedContract(t: Test, open: () => Promise<Knex>) {
  let db: Knex;
  t.before(async () => {
    db = await open();
    t.teardown(() => db.destroy());
  });

  t.test('it runs with its parameters, again and again', async (t) => {
    const add = prepare<{ sum: number }>(db, 'test_add', 'select ?::int + ?::int as sum');
    for (let i = 0; i < 7; i++) t.same(await add([i, 1]), [{ sum: i + 1 }], `run ${i + 1}`);
  });

  t.test('arrays travel as one parameter each', async (t) => {
    const count = prepare<{ n: number }>(db, 'test_count', 'select count(*)::int as n from unnest(?::text[])');
    t.same(await count([['a', 'b,c', '{"x"}']]), [{ n: 3 }], 'three elements');
  });

  t.test("an error keeps PostgreSQL's code, which the callers' retries look at", async (t) => {
    const divide = prepare(db, 'test_divide', 'select 1 / ?::int as q');
    await t.rejects(divide([0]), { code: '22012' }, 'division_by_zero');
    t.same(await divide([1]), [{ q: 1 }], 'and the statement still runs');
  });
}

t.test('a prepared statement on PGlite', async (t) => preparedContract(t, () => openRelational({})));

t.test('a prepared statement on PostgreSQL', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL prepared statements');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  preparedContract(t, () => openRelational({ databaseUrl }));

  t.test('is parsed once per connection but planned on every run', async (t) => {
    // One connection, so the statement and the catalog query below share it.
    const db = await openRelational({ databaseUrl, poolMax: 1 });
    t.teardown(() => db.destroy());
    const echo = prepare(db, 'test_echo', 'select ?::text as v');
    for (let i = 0; i < 7; i++) await echo([`v${i}`]);
    const { rows } = await db.raw<{ rows: unknown[] }>(
      "select generic_plans, custom_plans from pg_prepared_statements where name = 'test_echo'",
    );
    t.same(rows, [{ generic_plans: 0, custom_plans: 7 }], 'one named statement, never a generic plan');
  });
});
