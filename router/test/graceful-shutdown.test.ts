import t from 'tap';
import { PgHistoryStore } from '../../db/history.pg.ts';
import { KnexRelationalStore } from '../../db/relational.store.ts';
import { openRelational } from '../../db/relational.ts';
import { RedisSessionStore } from '../../db/session.redis.ts';
import { TestClient } from '../../test/support/router.harness.ts';
import { spawnRouter } from '../../test/support/router.process.ts';
import { freshPgDatabase, need, uniqueName } from '../../test/support/services.ts';

t.test('SIGTERM under traffic in a two-node setup loses nothing acknowledged', async (t) => {
  const db = need(t, 'DATABASE_URL', 'graceful shutdown test');
  const redis = need(t, 'REDIS_URL', 'graceful shutdown test');
  const amqp = need(t, 'AMQP_URL', 'graceful shutdown test');
  if (!db || !redis || !amqp) return;

  const env = { DATABASE_URL: await freshPgDatabase(t, db), REDIS_URL: redis, AMQP_URL: amqp, AMQP_EXCHANGE: uniqueName('live'), RATE_LIMIT_PER_SEC: '10000', RATE_LIMIT_BURST: '10000' };
  const knex = await openRelational({ databaseUrl: env.DATABASE_URL });
  t.teardown(() => knex.destroy());
  const sessions = RedisSessionStore.open(redis);
  t.teardown(() => sessions.close());
  const relational = new KnexRelationalStore(knex);
  const [doomed, survivor] = await Promise.all([spawnRouter(t, env), spawnRouter(t, env)]);

  const alice = await relational.createUser('alice', 'Alice');
  const bob = await relational.createUser('bob', 'Bob');
  const aliceSession = (await sessions.create(alice.id, 600_000)).id;
  const bobSession = (await sessions.create(bob.id, 600_000)).id;
  const room = `${alice.id}-${bob.id}`;
  const a = await TestClient.open(t, `ws://127.0.0.1:${doomed.port}/ws`, aliceSession);
  const b = await TestClient.open(t, `ws://127.0.0.1:${doomed.port}/ws`, bobSession);

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
  await new Promise((resolve) => setTimeout(resolve, 300));
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
  const b2 = await TestClient.open(t, `ws://127.0.0.1:${survivor.port}/ws`, bobSession);
  b2.send({ type: 'sync', ref: 'after-restart', rooms: [{ room, lastSeq: lastSeen }] });
  await b2.next('sync.done', (f) => f.ref === 'after-restart');
  for (const page of b2.all('history.page')) for (const m of page.messages) seenByBob.add(m.seq);
  const missing = [...acked].filter((seq) => !seenByBob.has(seq));
  t.same(missing, [], 'every acknowledged message reached the recipient after it reconnected');

  // Alice's outbox retries what was never acknowledged, with the same clientMsgIds, on the other node.
  const a2 = await TestClient.open(t, `ws://127.0.0.1:${survivor.port}/ws`, aliceSession);
  for (let i = 0; i < sent; i++) {
    if (ackedRefs.has(`m${i}`)) continue;
    const ack = await a2.sendMessage({ to: bob.id }, `message ${i}`, `m${i}`);
    t.equal(ack.type, 'message.sent', `the retry of m${i} is acknowledged`);
  }

  const stored = (await new PgHistoryStore(knex).after(room, 0, 100_000)).map((m) => m.seq);
  t.equal(stored.length, sent, 'every message sent is stored exactly once after the retries');
  t.same(stored, Array.from({ length: stored.length }, (_, i) => i + 1), 'history is gap-free');
  t.ok([...acked].every((s) => stored.includes(s)), 'every acknowledged message is stored');
});
