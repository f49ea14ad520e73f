import t, { type Test } from 'tap';
import { type Cluster, startCluster } from '../../test/support/cluster.ts';
import { freshMongoDatabase, need } from '../../test/support/services.ts';

t.test('two router processes sharing PostgreSQL, Redis and RabbitMQ', async (t) => {
  const cluster = await startCluster(t, 'two-node test');
  if (cluster) await twoNodes(t, cluster);
});

t.test('two router processes sharing PostgreSQL, Redis, RabbitMQ and their history in MongoDB', async (t) => {
  // The GitHub workflow sets MONGO_URL; MongoDB cannot run on the project's machines.
  const mongo = need(t, 'MONGO_URL', 'two-node test with history in MongoDB');
  if (!mongo) return;
  const cluster = await startCluster(t, 'two-node test with history in MongoDB', { MONGO_URL: await freshMongoDatabase(t, mongo) });
  if (cluster) await twoNodes(t, cluster);
});

/** Two nodes of `cluster`, alice on both, bob on the second: messages, receipts and typing cross between them. */
async function twoNodes(t: Test, cluster: Cluster): Promise<void> {
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const alice = await cluster.user('alice');
  const bob = await cluster.user('bob');
  const a = await cluster.connect(alice, one);
  const b = await cluster.connect(bob, two);
  const aliceOnTwo = await cluster.connect(alice, two);
  const room = `${alice.id}-${bob.id}`;

  t.test('a message crosses from node one to node two', async (t) => {
    const ack = await a.sendMessage({ to: bob.id }, 'hi from node one');
    t.match(ack, { type: 'message.sent', seq: 1 }, 'acknowledged on node one');
    const got = await b.next('message.new');
    t.match(got.message, { seq: 1, sender: alice.id, body: 'hi from node one' }, 'bob receives it on node two');
    const own = await aliceOnTwo.next('message.new');
    t.equal(own.message.seq, 1, "alice's other device on node two receives it too");
  });

  t.test('receipts cross back to the sender', async (t) => {
    b.send({ type: 'message.ack', room, seq: 1 });
    t.match(await a.next('receipt', (f) => f.kind === 'delivered'), { user: bob.id, seq: 1 }, 'delivered reaches node one');
    b.send({ type: 'message.read', room, seq: 1 });
    t.match(await a.next('receipt', (f) => f.kind === 'read'), { user: bob.id, seq: 1 }, 'read reaches node one');
  });

  t.test('a reply crosses from node two to node one, with typing', async (t) => {
    b.send({ type: 'typing', room, active: true });
    t.match(await a.next('typing'), { user: bob.id, active: true }, 'typing reaches node one');
    const ack = await b.sendMessage({ room }, 'hi back from node two');
    t.match(ack, { type: 'message.sent', seq: 2 }, 'acknowledged on node two');
    t.match((await a.next('message.new')).message, { seq: 2, sender: bob.id }, 'alice receives it on node one');
    a.send({ type: 'message.ack', room, seq: 2 });
    t.match(await b.next('receipt', (f) => f.kind === 'delivered' && f.seq === 2), { user: alice.id }, 'delivered reaches node two');
  });

  t.test('both nodes writing to one room at once keep its seqs gap-free and unique', async (t) => {
    const acks = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? a.sendMessage({ room }, `one ${i}`) : b.sendMessage({ room }, `two ${i}`))),
    );
    const seqs = acks.map((f) => (f.type === 'message.sent' ? f.seq : -1)).sort((x, y) => x - y);
    t.same(seqs, Array.from({ length: 60 }, (_, i) => i + 3), 'seqs 3..62, each once');
    const fromAlice = acks.filter((_, i) => i % 2).map((f) => (f.type === 'message.sent' ? f.seq : -1));
    for (const seq of fromAlice) await b.next('message.new', (f) => f.message.seq === seq);
    t.pass("bob's node delivered every message from alice's node");
  });
}
