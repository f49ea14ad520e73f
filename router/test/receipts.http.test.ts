/**
 * Receipts over HTTP (`POST /api/rooms/:room/delivered` and `/read`): what a service worker sends
 * once it stored a pushed message, or a notification's "Mark as read". Cumulative and idempotent,
 * refused for rooms the caller is not in, for seqs past the room's last and for other origins; the
 * sender hears the receipt on their socket, on the embedded default, the full stack, and across
 * two router processes.
 */
import t from 'tap';
import { startCluster } from '../../test/support/cluster.ts';
import { call } from '../../test/support/http.client.ts';
import { modes, startNode, TEST_ORIGIN } from '../../test/support/router.harness.ts';

for (const mode of modes(t, 'receipts over HTTP')) {
  t.test(`receipts over HTTP (${mode.name})`, async (t) => {
    const h = await startNode(t, await mode.env(t));
    const [alice, bob, carol] = await Promise.all([h.user(), h.user(), h.user()]);
    const a = await alice.connect();
    // Users made at once may get their ids in either order; a 1:1 room is named lower id first.
    const room = `${Math.min(alice.id, bob.id)}-${Math.max(alice.id, bob.id)}`;
    for (const body of ['one', 'two']) await a.sendMessage({ to: bob.id }, body);
    const post = (who: { sessionId: string }, path: string, body: unknown, origin: string | undefined = TEST_ORIGIN) =>
      call(h.httpUrl, path, { method: 'POST', body, cookie: `sid=${who.sessionId}`, origin });

    await t.test('a device of the recipient reports delivery and the sender sees it live', async (t) => {
      const res = await post(bob, `/api/rooms/${room}/delivered`, { seq: 1 });
      t.same([res.status, res.body], [200, { room, seq: 1 }], 'delivered up to 1');
      t.match(await a.next('receipt', (f) => f.room === room && f.user === bob.id), { kind: 'delivered', seq: 1 }, 'alice gets the receipt on her socket');
    });

    await t.test('it is cumulative and idempotent', async (t) => {
      t.same((await post(bob, `/api/rooms/${room}/delivered`, { seq: 1 })).body, { room, seq: 1 }, 'the same seq again: the same answer');
      t.same((await post(bob, `/api/rooms/${room}/delivered`, { seq: 2 })).body, { room, seq: 2 }, 'a higher one raises it');
      t.same((await post(bob, `/api/rooms/${room}/delivered`, { seq: 1 })).body, { room, seq: 2 }, 'a lower one never lowers it');
      t.match(await a.next('receipt', (f) => f.room === room && f.seq === 2), { kind: 'delivered', user: bob.id }, 'alice hears the raise');
    });

    await t.test('refuses seqs past the room\'s last, foreign rooms, other origins and bad bodies', async (t) => {
      t.match(await post(bob, `/api/rooms/${room}/delivered`, { seq: 3 }), { status: 404, body: { error: { code: 'message_not_found' } } }, 'past the last seq');
      t.match(await post(carol, `/api/rooms/${room}/delivered`, { seq: 1 }), { status: 404, body: { error: { code: 'room_not_found' } } }, 'a room carol is not in');
      t.match(await post(carol, `/api/rooms/${carol.id}-999999/delivered`, { seq: 1 }), { status: 404, body: { error: { code: 'room_not_found' } } }, 'a room that does not exist');
      t.match(await post(bob, `/api/rooms/${room}/read`, { seq: 2 }, 'https://evil.example'), { status: 403, body: { error: { code: 'forbidden_origin' } } }, 'a cross-site request');
      t.match(await call(h.httpUrl, `/api/rooms/${room}/read`, { method: 'POST', body: { seq: 2 }, origin: TEST_ORIGIN }), { status: 401 }, 'no session');
      for (const body of [{ seq: 0 }, { seq: '2' }, { seq: 1.5 }, { seq: 1, more: true }, {}]) {
        t.match(await post(bob, `/api/rooms/${room}/delivered`, body), { status: 400, body: { error: { code: 'invalid_request' } } }, `body ${JSON.stringify(body)}`);
      }
      t.notOk(a.all('receipt').some((f) => f.kind === 'read'), 'none of them raised a read watermark');
    });

    await t.test('"Mark as read" raises the read watermark the same way', async (t) => {
      t.same((await post(bob, `/api/rooms/${room}/read`, { seq: 2 })).body, { room, seq: 2 }, 'read up to 2');
      t.match(await a.next('receipt', (f) => f.room === room && f.kind === 'read'), { user: bob.id, seq: 2 }, 'alice sees it read');
    });
  });
}

t.test('a delivery reported to one node reaches the sender on another', async (t) => {
  const cluster = await startCluster(t, 'receipts over HTTP across two nodes');
  if (!cluster) return;
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const stamp = Date.now() % 100000;
  const [ann, ben] = await Promise.all([cluster.user(`rann${stamp}`), cluster.user(`rben${stamp}`)]);
  const a = await cluster.connect(ann, one);
  const room = `${Math.min(ann.id, ben.id)}-${Math.max(ann.id, ben.id)}`;
  t.match(await a.sendMessage({ to: ben.id }, 'hello'), { type: 'message.sent', seq: 1 }, 'ann writes on node one');
  const res = await call(`http://127.0.0.1:${two.port}`, `/api/rooms/${room}/delivered`, { method: 'POST', body: { seq: 1 }, cookie: `sid=${ben.sessionId}`, origin: TEST_ORIGIN });
  t.same([res.status, res.body], [200, { room, seq: 1 }], 'ben\'s device reports it to node two');
  t.match(await a.next('receipt', (f) => f.room === room && f.user === ben.id), { kind: 'delivered', seq: 1 }, 'ann, on node one, sees two ticks');
});
