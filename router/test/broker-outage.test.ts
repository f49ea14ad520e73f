/**
 * Two router processes and a worker reach RabbitMQ through a proxy the test cuts (the machine's
 * shared broker is never restarted). Traffic goes on before, around and during the outage; the
 * test shows that every process reports itself unready, then ready again by itself, that live
 * delivery between the nodes resumes, and that every push task decided before, around or during
 * the outage reaches the worker (and the recipient's push endpoint).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { KnexNotifyStore } from '../../db/notify.store.ts';
import { startCluster } from '../../test/support/cluster.ts';
import { startPushEndpoint } from '../../test/support/push.endpoint.ts';
import { need } from '../../test/support/services.ts';
import { startTcpProxy, targetOf } from '../../test/support/tcp.proxy.ts';
import { spawnWorker } from '../../test/support/worker.process.ts';
import { generateVapidKeys } from '../../workers/tasks/vapid.ts';
import { until } from '../../test/support/wait.ts';

/** Generous: it only bounds a wait for something that never happens (a busy machine is slow, not wrong). */
const PATIENCE_MS = 60_000;

const readyz = (port: number) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);

/** One sample of a Prometheus text page; 0 when absent. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

t.test('two routers and a worker through a RabbitMQ outage', async (t) => {
  const amqpUrl = need(t, 'AMQP_URL', 'broker outage test');
  if (!amqpUrl) return;
  const proxy = await startTcpProxy(t, targetOf(amqpUrl));
  const push = await startPushEndpoint(t);
  const caFile = join(mkdtempSync(join(tmpdir(), 'push-ca-')), 'ca.pem');
  writeFileSync(caFile, push.ca);
  const vapid = generateVapidKeys();
  const cluster = await startCluster(t, 'broker outage test', {
    AMQP_URL: proxy.via(amqpUrl),
    // Heals within a second of the broker coming back.
    AMQP_RECONNECT_MIN_MS: '20',
    AMQP_RECONNECT_MAX_MS: '500',
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    PUSH_ALLOW_PRIVATE_ENDPOINTS: 'true',
    TASK_RETRY_BASE_MS: '50',
    // Each router's metrics on a listener of its own (0: a free port, reported in its log).
    METRICS_PORT: '0',
  });
  if (!cluster) return;
  const [one, two] = await Promise.all([cluster.node(), cluster.node()]);
  const worker = await spawnWorker(t, { ...cluster.env, NODE_EXTRA_CA_CERTS: caFile });
  const ports = { 'router one': one.port, 'router two': two.port, worker: worker.port };
  const allReady = async (status: number) => (await Promise.all(Object.values(ports).map(readyz))).every((s) => s === status);
  const logs = () => `\nrouter one:\n${one.logs.slice(-30).join('\n')}\nrouter two:\n${two.logs.slice(-30).join('\n')}\nworker:\n${worker.logs.slice(-30).join('\n')}`;

  const alice = await cluster.user('alice');
  const carol = await cluster.user('carol');
  // Bob never connects: every message to him is a push task.
  const bob = await cluster.user('bob');
  const device = push.subscribe();
  await new KnexNotifyStore(cluster.knex).addSubscription(bob.id, device);
  const a = await cluster.connect(alice, one);
  const c = await cluster.connect(carol, two);
  const toBob: number[] = [];
  const sendToBob = async (body: string) => {
    const ack = await a.sendMessage({ to: bob.id }, body);
    if (ack.type !== 'message.sent') throw new Error(`not acknowledged: ${JSON.stringify(ack)}`);
    toBob.push(ack.seq);
  };
  const pushedSeqs = () => new Set(push.received.filter((r) => r.subscription === device.id).map((r) => r.payload.seq as number));

  await t.test('before the outage: live delivery crosses nodes and a push task reaches the worker', async (t) => {
    t.ok(await allReady(200), 'both routers and the worker are ready');
    await a.sendMessage({ to: carol.id }, 'before');
    t.match((await c.next('message.new', (f) => f.message.body === 'before')).message, { sender: alice.id }, 'carol on node two gets alice\'s message live');
    await sendToBob('before');
    await until(() => pushedSeqs().has(toBob[0]!), PATIENCE_MS, 'the first push');
    t.pass('bob\'s device got a push for the first message');
  });

  await t.test('the broker is cut while messages are in flight and while more are sent', async (t) => {
    // Sent in the same turn as the cut: some tasks are published, some unconfirmed, some not yet decided.
    const around = Array.from({ length: 10 }, (_, i) => sendToBob(`around ${i}`));
    proxy.sever();
    await t.resolves(Promise.all(around), 'messages sent as the broker went away are acknowledged (history is PostgreSQL)');
    await until(() => allReady(503), PATIENCE_MS, 'every process to report itself unready').catch((err: Error) => {
      throw new Error(err.message + logs());
    });
    t.pass('both routers and the worker answer 503 on /readyz');
    for (let i = 0; i < 10; i++) await sendToBob(`during ${i}`);
    t.pass('messages sent during the outage are acknowledged');
    const duringCarol = await a.sendMessage({ to: carol.id }, 'during');
    t.equal(duringCarol.type, 'message.sent', 'a message to a user on the other node is acknowledged too');
    await until(async () => (await metric(one.metricsPort!, 'messenger_tasks_unconfirmed')) >= 10, PATIENCE_MS, 'the push tasks to be held');
    t.pass(`node one holds the push tasks it could not hand to the broker (${await metric(one.metricsPort!, 'messenger_tasks_unconfirmed')})`);
    await until(async () => (await metric(one.metricsPort!, 'messenger_bus_events_dropped_total')) >= 1, PATIENCE_MS, 'the dropped live event to be counted');
    t.pass('the live events it could not send are counted as dropped');
  });

  await t.test('the broker comes back: everything heals by itself', async (t) => {
    proxy.restore();
    await until(() => allReady(200), PATIENCE_MS, 'every process to be ready again').catch((err: Error) => {
      throw new Error(err.message + logs());
    });
    t.pass('both routers and the worker answer 200 on /readyz again, with no restart');
    await a.sendMessage({ to: carol.id }, 'after');
    t.match((await c.next('message.new', (f) => f.message.body === 'after', PATIENCE_MS)).message, { sender: alice.id }, 'a message sent after recovery reaches carol on node two live');
    await sendToBob('after');
    await until(() => toBob.every((seq) => pushedSeqs().has(seq)), PATIENCE_MS, 'a push for every message to bob').catch((err: Error) => {
      const missing = toBob.filter((seq) => !pushedSeqs().has(seq));
      throw new Error(`${err.message}: missing seqs ${missing.join(', ')}${logs()}`);
    });
    t.pass(`every one of the ${toBob.length} push tasks reached the worker and bob's device`);
    await until(async () => (await metric(one.metricsPort!, 'messenger_tasks_unconfirmed')) === 0, PATIENCE_MS, 'nothing to be left unconfirmed');
    t.pass('no task is left waiting for a confirm');
    const pushes = push.received.filter((r) => r.subscription === device.id).length;
    t.comment(`${pushes} pushes for ${toBob.length} messages (${pushes - toBob.length} repeated after a lost confirm)`);
  });
});
