import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { Test } from 'tap';
import { startCluster } from '../../test/support/cluster.ts';
import { modes, startNode } from '../../test/support/router.harness.ts';
import { uniqueName } from '../../test/support/services.ts';
import { deleteQueues } from '../../test/support/amqp.queues.ts';

/** How long a case waits for frames that must not come, ms. */
const QUIET_MS = 300;

/**
 * Presence keys in Redis are named after TASK_QUEUE, and user ids restart at 1 in every fresh
 * database: a queue of this file's own keeps parallel test files from seeing each other's users.
 */
function ownTaskQueue(t: Test, amqpUrl: string | undefined): Record<string, string> {
  if (!amqpUrl) return {};
  const name = uniqueName('tasks');
  t.teardown(() => deleteQueues(amqpUrl, name, []));
  return { TASK_QUEUE: name };
}

for (const mode of modes(t, 'presence')) {
  t.test(`on the ${mode.name}`, async (t) => {
    const env = await mode.env(t);
    const h = await startNode(t, { ...env, ...ownTaskQueue(t, env.AMQP_URL) });
    const alice = await h.user('alice');
    const bob = await h.user('bob');
    const carol = await h.user('carol');
    const stranger = await h.user('stranger');
    const a = await alice.connect();
    const s = await stranger.connect();

    // Alice and Bob share a room, and so do Alice and Carol; the stranger shares none.
    const b0 = await bob.connect();
    const c = await carol.connect();
    await b0.sendMessage({ to: alice.id }, 'hi alice');
    await c.sendMessage({ to: alice.id }, 'hi alice, carol here');
    // Each first message started a room, which introduced its two members to each other.
    await a.next('presence', (f) => f.user === bob.id && f.online);
    await a.next('presence', (f) => f.user === carol.id && f.online);
    await b0.close();
    await a.next('presence', (f) => f.user === bob.id && !f.online);

    t.test('a contact coming online is announced to the users who share a room with them', async (t) => {
      const b = await bob.connect();
      const frame = await a.next('presence', (f) => f.user === bob.id);
      t.same(frame, { type: 'presence', user: bob.id, online: true }, 'alice learns that bob is online, without a lastSeen');
      await b.close();
      await a.next('presence', (f) => f.user === bob.id && !f.online);
    });

    t.test('a contact whose last socket closes is announced offline with the time', async (t) => {
      const b = await bob.connect();
      await a.next('presence', (f) => f.user === bob.id && f.online);
      const before = Date.now();
      await b.close();
      const frame = await a.next('presence', (f) => f.user === bob.id);
      t.equal(frame.online, false, 'alice learns that bob went offline');
      t.ok(typeof frame.lastSeen === 'number' && frame.lastSeen >= before - 1000 && frame.lastSeen <= Date.now(), `with when (${frame.lastSeen})`);
    });

    t.test('a second device coming and going does not flip the user', async (t) => {
      const phone = await bob.connect();
      await a.next('presence', (f) => f.user === bob.id && f.online);
      const count = a.all('presence').filter((f) => f.user === bob.id).length;
      const laptop = await bob.connect();
      await laptop.close();
      await sleep(QUIET_MS);
      t.equal(a.all('presence').filter((f) => f.user === bob.id).length, count, 'no presence frame while another device stays connected');
      t.notOk(phone.all('presence').some((f) => f.user === bob.id), "bob's own devices never get his presence");
      await phone.close();
      t.equal((await a.next('presence', (f) => f.user === bob.id)).online, false, 'closing the last one does');
    });

    t.test('sync.done tells each member whether they are online', async (t) => {
      a.send({ type: 'sync', ref: 'p1', rooms: [] });
      const done = await a.next('sync.done', (f) => f.ref === 'p1');
      const members = new Map(done.rooms.flatMap((r) => r.members).map((m) => [m.id, m]));
      t.match(members.get(carol.id), { online: true }, 'carol is online');
      t.notOk('lastSeen' in (members.get(carol.id) ?? {}), 'an online member has no lastSeen');
      t.match(members.get(bob.id), { online: false, lastSeen: Number }, 'bob is offline, last seen at some time');
      t.match(members.get(alice.id), { online: true }, 'alice sees herself online');
    });

    t.test('a stranger sharing no room learns nothing', async (t) => {
      const b = await bob.connect();
      await a.next('presence', (f) => f.user === bob.id && f.online);
      await b.close();
      await a.next('presence', (f) => f.user === bob.id && !f.online);
      await sleep(QUIET_MS);
      t.same(s.all('presence'), [], 'the stranger got no presence frame at all');
      const others = await stranger.connect();
      await sleep(QUIET_MS);
      t.notOk(a.all('presence').some((f) => f.user === stranger.id), 'and the stranger coming online is not announced to anyone');
      await others.close();
    });

    t.test('sending messages causes no presence traffic', async (t) => {
      const before = a.all('presence').length;
      for (let i = 0; i < 5; i++) await c.sendMessage({ to: alice.id }, `quiet ${i}`);
      await sleep(QUIET_MS);
      t.equal(a.all('presence').length, before, 'no presence frame for five messages');
    });
  });
}

t.test('presence across two router processes', async (t) => {
  const cluster = await startCluster(t, 'two-node presence');
  if (!cluster) return;
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const alice = await cluster.user('alice');
  const bob = await cluster.user('bob');
  const a = await cluster.connect(alice, one);
  const first = await cluster.connect(bob, two);
  t.match(await first.sendMessage({ to: alice.id }, 'hello across nodes'), { type: 'message.sent' }, 'bob and alice now share a room');
  t.match(await a.next('presence', (f) => f.user === bob.id), { online: true }, 'the room starting introduced bob to alice');
  await first.close();
  await a.next('presence', (f) => f.user === bob.id && !f.online);

  t.test('bob connecting on node two is announced to alice on node one', async (t) => {
    const b = await cluster.connect(bob, two);
    t.same(await a.next('presence', (f) => f.user === bob.id), { type: 'presence', user: bob.id, online: true }, 'online crosses nodes');
    a.send({ type: 'sync', ref: 's1', rooms: [] });
    const done = await a.next('sync.done', (f) => f.ref === 's1');
    t.match(done.rooms[0]?.members.find((m) => m.id === bob.id), { online: true }, "node one's sync sees bob online on node two");

    const onOne = await cluster.connect(bob, one);
    const count = a.all('presence').filter((f) => f.user === bob.id).length;
    await b.close();
    await sleep(QUIET_MS);
    t.equal(a.all('presence').filter((f) => f.user === bob.id).length, count, 'bob leaving node two while on node one is no news');
    await onOne.close();
    const off = await a.next('presence', (f) => f.user === bob.id);
    t.match(off, { online: false, lastSeen: Number }, 'his last socket anywhere closing is');
  });
});
