/**
 * A block takes effect on every node: ann on node one blocks ben, whose socket is on node two. The
 * `privacy` event on the bus updates node two's record of ben before anything after it, so ben's
 * next message, on node two, is withheld from ann on node one; an unblock asked of node two lets
 * the next one through.
 */
import t from 'tap';
import { startCluster } from '../../test/support/cluster.ts';
import { call } from '../../test/support/http.client.ts';
import { TEST_ORIGIN } from '../../test/support/router.harness.ts';

t.test('blocking across two router processes sharing PostgreSQL, Redis and RabbitMQ', async (t) => {
  const cluster = await startCluster(t, 'privacy two-node test');
  if (!cluster) return;
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const stamp = Date.now() % 100000;
  const [ann, ben, cat] = await Promise.all(['ann', 'ben', 'cat'].map((h) => cluster.user(`${h}${stamp}`)));
  const a = await cluster.connect(ann!, one);
  const b = await cluster.connect(ben!, two);
  const c = await cluster.connect(cat!, two);
  const room = `${Math.min(ann!.id, ben!.id)}-${Math.max(ann!.id, ben!.id)}`;
  const http = (port: number, method: string, path: string) => call(`http://127.0.0.1:${port}`, path, { method, cookie: `sid=${ann!.sessionId}`, origin: TEST_ORIGIN });

  t.match(await b.sendMessage({ to: ann!.id }, 'before'), { type: 'message.sent', seq: 1 }, 'ben writes from node two');
  await a.next('message.new', (f) => f.message.room === room && f.message.seq === 1);

  t.equal((await http(one.port, 'PUT', `/api/blocks/${ben!.id}`)).status, 200, 'ann blocks ben on node one');
  // Node two applies the event to its record of ben before it tells ben's socket.
  await b.next('presence', (f) => f.user === ann!.id && !f.online);
  const sent = await b.sendMessage({ room }, 'during the block');
  t.match(sent, { type: 'message.sent', seq: 2 }, 'ben is answered "sent" on node two');
  // Cat's message leaves node two after ben's: once it is on node one, ben's would be too.
  const marker = await c.sendMessage({ to: ann!.id }, 'marker');
  await a.next('message.new', (f) => f.type === 'message.new' && marker.type === 'message.sent' && f.message.id === marker.id);
  t.notOk(a.all('message.new').some((f) => f.message.room === room && f.message.seq === 2), 'ann, on node one, never got it');

  t.equal((await http(two.port, 'DELETE', `/api/blocks/${ben!.id}`)).status, 204, 'ann unblocks ben, asking node two');
  // The unblock event is ordered before anything node two publishes after it.
  const after = await b.sendMessage({ room }, 'after the block');
  t.match(after, { type: 'message.sent', seq: 3 }, 'ben writes again');
  t.match((await a.next('message.new', (f) => f.message.room === room && f.message.seq === 3)).message, { body: 'after the block' }, 'and ann gets it on node one');
});
