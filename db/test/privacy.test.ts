import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import { KnexPrivacyStore } from '../privacy.store.ts';
import { KnexRelationalStore } from '../relational.store.ts';
import { openRelational } from '../relational.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

/** The PrivacyStore contract; runs on every database the machine has. */
function privacyContract(t: Test, open: () => Promise<Knex>) {
  let store: KnexPrivacyStore;
  let users: KnexRelationalStore;
  t.before(async () => {
    const knex = await open();
    t.teardown(() => knex.destroy());
    store = new KnexPrivacyStore(knex);
    users = new KnexRelationalStore(knex);
  });

  t.test('blocks: idempotent both ways, listed newest first, read from both sides', async (t) => {
    const [a, b, c] = [await users.createUser('pa', 'A'), await users.createUser('pb', 'B'), await users.createUser('pc', 'C')];
    await store.block(a.id, b.id);
    const first = await store.blocksOf(a.id);
    await store.block(a.id, b.id);
    t.same(await store.blocksOf(a.id), first, 'blocking twice keeps one block and its first time');
    await store.block(a.id, c.id);
    await store.block(c.id, a.id);
    t.same((await store.blocksOf(a.id)).map((x) => x.user), [c.id, b.id], 'newest first');
    t.same(await store.recordOf(a.id), { settings: { lastSeen: 'everyone', readReceipts: true }, blocked: [b.id, c.id].sort((x, y) => x - y), blockedBy: [c.id] }, 'the record has both sides and the default settings');
    t.same((await store.recordOf(b.id)).blockedBy, [a.id], 'the blocked user\'s record names the blocker');
    await store.unblock(a.id, b.id);
    await store.unblock(a.id, b.id);
    t.same((await store.blocksOf(a.id)).map((x) => x.user), [c.id], 'unblocking twice is fine');
    await t.rejects(store.block(a.id, a.id), 'a block of oneself is refused by the database too');
  });

  t.test('settings: defaults without a row, a partial change keeps the rest', async (t) => {
    const [d, e] = [await users.createUser('pd', 'D'), await users.createUser('pe', 'E')];
    t.same(await store.setSettings(d.id, { lastSeen: 'nobody' }), { lastSeen: 'nobody', readReceipts: true }, 'one setting changed');
    t.same(await store.setSettings(d.id, { readReceipts: false }), { lastSeen: 'nobody', readReceipts: false }, 'the other one kept');
    const all = await store.settingsOf([d.id, e.id]);
    t.same([all.get(d.id), all.get(e.id)], [{ lastSeen: 'nobody', readReceipts: false }, { lastSeen: 'everyone', readReceipts: true }], 'many at once, defaults for the rest');
    t.same((await store.recordOf(d.id)).settings, { lastSeen: 'nobody', readReceipts: false }, 'in the record too');
    t.same(await store.settingsOf([]), new Map(), 'none asked, none read');
  });

  t.test('withheld entries: recorded once, read by range and by user, and hidden like "delete for me"', async (t) => {
    const [f, g] = [await users.createUser('pf', 'F'), await users.createUser('pg', 'G')];
    const room = (await users.openDirectRoom(f.id, g.id))!.id;
    await users.hideMessage(f.id, room, 2);
    await store.withhold(f.id, room, 3);
    await store.withhold(f.id, room, 3);
    await store.withhold(f.id, room, 5);
    await store.withhold(f.id, room, 2);
    t.same(await store.withheldIn(f.id, room, 1, 4), [2, 3], 'a range, ascending; a seq hidden before becomes withheld');
    t.same(await store.withheldIn(g.id, room, 1, 10), [], 'nothing for the other member');
    t.same(await store.withheldOf(f.id), new Map([[room, new Set([2, 3, 5])]]), 'all of them by room');
    t.same((await users.hiddenOf(f.id, [room])).get(room), [2, 3, 5], 'hidden for the user, as "delete for me" is');
  });
}

t.test('the privacy store on PGlite', async (t) => privacyContract(t, () => openRelational({})));

t.test('the privacy store on PostgreSQL', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL privacy store');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  privacyContract(t, () => openRelational({ databaseUrl }));
});
