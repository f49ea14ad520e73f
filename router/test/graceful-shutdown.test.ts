import t from 'tap';
import { PgHistoryStore } from '../../db/history.pg.ts';
import { startCluster } from '../../test/support/cluster.ts';
import { waitFor } from '../../test/support/wait.ts';

t.test('SIGTERM under traffic in a two-node setup loses nothing acknowledged', async (t) => {
  const cluster = await startCluster(t, 'graceful shutdown test', { RATE_LIMIT_PER_SEC: '10000', RATE_LIMIT_BURST: '10000' });
  if (!cluster) return;
  const [doomed, survivor] = await Promise.all([cluster.node(), cluster.node()]);
  const alice = await cluster.user('alice');
  const bob = await cluster.user('bob');
  const room = `${alice.id}-${bob.id}`;
  const a = await cluster.connect(alice, doomed);
  const b = await cluster.connect(bob, doomed);

  // Alice sends without waiting for acks while the node is told to stop.
  const acked = new Set<number>();
  const ackedRefs = new Set<string>();
  a.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type === 'message.sent') {
      acked.add(frame.seq);
      ackedRefs.add(frame.ref);
    }
  });
  let sent = 0;
  const sender = setInterval(() => {
    for (let i = 0; i < 2 && a.ws.readyState === a.ws.OPEN; i++) {
      a.send({ type: 'message.send', to: bob.id, clientMsgId: `m${sent}`, body: `message ${sent++}` });
    }
  }, 5);
  // Stop mid-stream once some messages are through, however long a busy machine takes to get there.
  t.ok(await waitFor(() => acked.size >= 20, 30_000), 'messages are being acknowledged before the stop');
  const exit = doomed.stop('SIGTERM');
  const [aClosed, bClosed] = await Promise.all([a.closed, b.closed]);
  clearInterval(sender);
  t.equal(aClosed.code, 1012, 'the sender is told to reconnect elsewhere (1012)');
  t.equal(bClosed.code, 1012, 'the recipient is told to reconnect elsewhere (1012)');
  t.equal(await exit, 0, 'the node exits cleanly');
  t.ok(acked.size > 0, `messages were acknowledged before the stop (${acked.size} of ${sent} sent)`);

  // Both reconnect to the other node and resync from what they had.
  const seenByBob = new Set(b.all('message.new').map((f) => f.message.seq));
  // The client resumes from the end of its gap-free prefix, as the app does.
  let lastSeen = 0;
  while (seenByBob.has(lastSeen + 1)) lastSeen++;
  const b2 = await cluster.connect(bob, survivor);
  b2.send({ type: 'sync', ref: 'after-restart', rooms: [{ room, lastSeq: lastSeen }] });
  await b2.next('sync.done', (f) => f.ref === 'after-restart');
  for (const page of b2.all('history.page')) for (const m of page.messages) seenByBob.add(m.seq);
  const missing = [...acked].filter((seq) => !seenByBob.has(seq));
  t.same(missing, [], 'every acknowledged message reached the recipient after it reconnected');

  // Alice's outbox retries what was never acknowledged, with the same clientMsgIds, on the other node.
  const a2 = await cluster.connect(alice, survivor);
  for (let i = 0; i < sent; i++) {
    if (ackedRefs.has(`m${i}`)) continue;
    const ack = await a2.sendMessage({ to: bob.id }, `message ${i}`, `m${i}`);
    t.equal(ack.type, 'message.sent', `the retry of m${i} is acknowledged`);
  }

  const stored = (await new PgHistoryStore(cluster.knex).after(room, 0, 100_000)).map((m) => m.seq);
  t.equal(stored.length, sent, 'every message sent is stored exactly once after the retries');
  t.same(stored, Array.from({ length: stored.length }, (_, i) => i + 1), 'history is gap-free');
  t.ok([...acked].every((s) => stored.includes(s)), 'every acknowledged message is stored');
});
