import t from 'tap';
import { startCluster } from '../../test/support/cluster.ts';
import { done, entries, entry, request } from '../../test/support/group.requests.ts';
import type { TestClient } from '../../test/support/router.harness.ts';

t.test('a group across two router processes sharing PostgreSQL, Redis and RabbitMQ', async (t) => {
  const cluster = await startCluster(t, 'group two-node test');
  if (!cluster) return;
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const [ann, ben, cat, dan] = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((h) => cluster.user(`${h}${Date.now() % 100000}`)));
  // Ann on both nodes, ben on one, cat and dan on two.
  const a1 = await cluster.connect(ann!, one);
  const a2 = await cluster.connect(ann!, two);
  const b = await cluster.connect(ben!, one);
  const c = await cluster.connect(cat!, two);
  let room = '';

  await t.test('created on node one, chatted across both, a fourth added and one removed', async (t) => {
    room = (await done(a1, { type: 'group.create', name: 'Across', members: [ben!.id, cat!.id] })).room;
    for (const client of [a2, b, c]) await entry(client, room, 1);
    t.match(await c.sendMessage({ room }, 'from node two'), { seq: 2 }, 'cat sends on node two');
    t.match(await b.sendMessage({ room }, 'from node one'), { seq: 3 }, 'ben sends on node one');
    c.send({ type: 'message.read', room, seq: 3 });
    t.match(await b.next('receipt', (f) => f.room === room && f.kind === 'read'), { user: cat!.id, seq: 3 }, 'cat\'s read crosses to ben on node one');
    t.equal((await done(a2, { type: 'group.add', room, users: [dan!.id] })).seq, 4, 'ann adds dan from node two');
    const d = await cluster.connect(dan!, one);
    t.match(await d.sendMessage({ room }, 'hi from dan'), { seq: 5 }, 'dan, on node one, sends');
    t.equal((await done(a1, { type: 'group.remove', room, user: cat!.id })).seq, 6, 'ann removes cat from node one');
    await entry(c, room, 6);
    t.match(await b.sendMessage({ room }, 'cat is gone'), { seq: 7 }, 'ben goes on');
    t.match(await c.sendMessage({ room }, 'wait'), { type: 'error', code: 'room_not_found' }, 'cat, on node two, cannot send');
    for (const client of [a1, a2, d]) await entry(client, room, 7);
    const seqs = (x: TestClient) => entries(x, room).map((m) => m.seq);
    t.same(seqs(a1), [1, 2, 3, 4, 5, 6, 7], 'ann on node one: every entry once, in order');
    t.same(seqs(a2), [1, 2, 3, 4, 5, 6, 7], 'ann on node two: every entry once, in order');
    t.same(seqs(b), [1, 2, 4, 5, 6], 'ben: every entry but his own once, in order, so far');
    t.same(seqs(c), [1, 3, 4, 5, 6], 'cat: up to her removal, none after');
    t.same(seqs(d), [6, 7], 'dan (connected after his joining, his own message acknowledged): the rest once, in order');
  });

  await t.test('two admins on two nodes removing each other at once: one wins', async (t) => {
    const x = await cluster.connect(ben!, one);
    const y = await cluster.connect(dan!, two);
    await done(a1, { type: 'group.role', room, user: ben!.id, role: 'admin' });
    await done(a1, { type: 'group.role', room, user: dan!.id, role: 'admin' });
    const answers = await Promise.all([request(x, { type: 'group.remove', room, user: dan!.id }), request(y, { type: 'group.remove', room, user: ben!.id })]);
    t.same(answers.map((a) => a.type).sort(), ['error', 'group.done'], 'exactly one removal is applied');
    const members = await request(a2, { type: 'group.members', room });
    t.equal(members.type === 'group.members' && members.members.length, 2, 'ann and the winner are left');
  });

  await t.test('a message on node two racing its sender\'s removal on node one: before it, or refused', async (t) => {
    const eve = await cluster.user(`eve${Date.now() % 100000}`);
    await done(a1, { type: 'group.add', room, users: [eve.id] });
    const e = await cluster.connect(eve, two);
    const sends = Array.from({ length: 20 }, (_, i) => e.sendMessage({ room }, `e${i}`));
    const removed = await done(a1, { type: 'group.remove', room, user: eve.id });
    const acks = await Promise.all(sends);
    const stored = acks.flatMap((x) => (x.type === 'message.sent' ? [x.seq] : []));
    t.ok(stored.every((seq) => seq < removed.seq), `every stored message (${stored.length}) comes before the removal (seq ${removed.seq})`);
    t.ok(acks.every((x) => x.type === 'message.sent' || x.code === 'room_not_found'), 'the rest were refused as room_not_found');
  });
});
