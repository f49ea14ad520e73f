import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import type { Message } from '../../protocol/frames.ts';
import { KnexRelationalStore } from '../relational.store.ts';
import { openRelational } from '../relational.ts';
import { HandleTakenError } from '../store.errors.ts';
import { freshPgDatabase, need } from '../../test/support/services.ts';

/** The RelationalStore contract; runs on every database the machine has. */
function relationalContract(t: Test, open: () => Promise<Knex>) {
  let store: KnexRelationalStore;
  t.before(async () => {
    const knex = await open();
    t.teardown(() => knex.destroy());
    store = new KnexRelationalStore(knex);
  });

  t.test('a user is created with a lower-case handle and found by it in any case', async (t) => {
    const u = await store.createUser('Alice', 'Alice A.');
    t.match(u, { handle: 'alice', displayName: 'Alice A.' }, 'the handle is stored lower-case');
    t.same(await store.findUserByHandle('ALICE'), u, 'found case-insensitively');
    t.same(await store.getUser(u.id), u, 'found by id');
    t.equal(await store.getUser(987654), null, 'an unknown id is null');
  });

  t.test('a taken handle is refused with a HandleTakenError', async (t) => {
    await store.createUser('bob', 'Bob');
    await t.rejects(store.createUser('BOB', 'Other Bob'), HandleTakenError, 'a HandleTakenError, whatever the case');
  });

  t.test('a group is written from its log events, in any order and any number of times', async (t) => {
    const [o, a, b] = [await store.createUser('gowner', 'O'), await store.createUser('ga', 'A'), await store.createUser('gb', 'B')];
    const room = 'g-relational-1';
    const entry = (seq: number, sender: number, event: NonNullable<Message['event']>): Message => ({ id: `e${seq}`, room, seq, sender, body: '', clientMsgId: `ev${seq}`, ts: 0, kind: 'event', event });
    const created = entry(1, o.id, { type: 'room.created', name: 'Club', members: [{ user: o.id, role: 'owner' }, { user: a.id, role: 'member' }] });
    const added = entry(3, o.id, { type: 'member.added', user: b.id, role: 'member' });
    const removed = entry(4, o.id, { type: 'member.removed', user: a.id });
    const renamed = entry(5, o.id, { type: 'room.renamed', name: 'Club 2' });
    await store.applyGroupEvents([created]);
    await store.applyGroupEvents([renamed, removed]);
    await store.applyGroupEvents([added, created, removed]);
    const group = await store.getRoom(room);
    t.match(group, { kind: 'group', name: 'Club 2', members: [o.id, b.id].sort((x, y) => x - y), membersSeq: 5 }, 'current members, the last name, the last seq written');
    t.same(group?.roles, { [o.id]: 'owner', [b.id]: 'member' }, 'roles of the current members');
    t.same(group?.joined, { [o.id]: 1, [b.id]: 3 }, 'each joined at their own entry');
    t.same(await store.membershipOf(room, a.id), { joinedSeq: 1, leftSeq: 4, muted: false }, 'the removed member left at seq 4');
    t.equal(await store.membershipOf(room, 987654), null, 'a stranger has no membership');
    t.same((await store.roomsOf(a.id)).map((r) => r.id), [], 'a former member does not list the group');
    const former = (await store.roomsOf(a.id, { former: true })).find((r) => r.id === room);
    t.match(former, { own: { leftSeq: 4 }, members: [o.id, b.id].sort((x, y) => x - y) }, 'unless asked for former rooms');
    t.same((await store.countGroupsOf([o.id, a.id])).get(o.id), 1, 'the owner is in one group');
    t.same((await store.countGroupsOf([a.id])).get(a.id), 0, 'the removed member in none');
    t.ok(await store.setMuted(room, b.id, true), 'a member mutes the group');
    t.notOk(await store.setMuted(room, a.id, true), 'a former member cannot');
    t.match((await store.roomsOf(b.id)).find((r) => r.id === room)?.own, { muted: true, joinedSeq: 3 }, 'the mute is the member\'s own');
  });

  t.test('a 1:1 room is LOWER-HIGHER, compared numerically, and created once', async (t) => {
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await store.createUser(`n${i}`, `N${i}`));
    const nine = users[8]!;
    const ten = users[9]!;
    const rooms = await Promise.all([store.openDirectRoom(ten.id, nine.id), store.openDirectRoom(nine.id, ten.id)]);
    t.same(rooms[0], rooms[1], 'concurrent opens agree');
    t.equal(rooms[0]?.id, `${Math.min(nine.id, ten.id)}-${Math.max(nine.id, ten.id)}`, 'the id is LOWER-HIGHER');
    t.same(rooms[0]?.members, [Math.min(nine.id, ten.id), Math.max(nine.id, ten.id)], 'both are members, ascending');
    t.same((await store.roomsOf(nine.id)).map((r) => r.id), [rooms[0]?.id], 'the room is listed for its member');
    t.equal(await store.openDirectRoom(nine.id, 999_999), null, 'no room with a user that does not exist');
    t.equal(await store.getRoom('1-999999'), null, 'no such room');
  });

  t.test('watermarks only ever rise', async (t) => {
    const x = await store.createUser('wx', 'X');
    const y = await store.createUser('wy', 'Y');
    const room = (await store.openDirectRoom(x.id, y.id))!;
    await store.raiseWatermarks([{ room: room.id, user: x.id, delivered: 5, read: 3 }]);
    await store.raiseWatermarks([{ room: room.id, user: x.id, delivered: 2, read: 1 }]);
    const after = await store.getRoom(room.id);
    t.equal(after?.delivered[x.id], 5, 'delivered stays at the highest');
    t.equal(after?.read[x.id], 3, 'read stays at the highest');
    t.equal(after?.delivered[y.id], 0, 'the other member is untouched');
    const listed = (await store.roomsOf(y.id)).find((r) => r.id === room.id);
    t.equal(listed?.read[x.id], 3, 'roomsOf carries the watermarks');
  });

  t.test('ping answers', async (t) => {
    await t.resolves(store.ping(), 'the database answers');
  });
}

t.test('the relational store on PGlite', async (t) => relationalContract(t, () => openRelational({})));

t.test('the relational store on PostgreSQL', async (t) => {
  const url = need(t, 'DATABASE_URL', 'PostgreSQL relational store');
  if (!url) return;
  const databaseUrl = await freshPgDatabase(t, url);
  relationalContract(t, () => openRelational({ databaseUrl }));
});

t.test('migrations are reversible and re-runnable on PGlite', async (t) => {
  const knex = await openRelational({});
  t.teardown(() => knex.destroy());
  const { migrations } = await import('../migrations/index.ts');
  await knex.migrate.rollback({ migrationSource: migrations }, true);
  t.equal(await knex.schema.hasTable('users'), false, 'rolled back');
  await knex.migrate.latest({ migrationSource: migrations });
  t.equal(await knex.schema.hasTable('history_messages'), true, 'migrated again');
});
