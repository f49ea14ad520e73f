/**
 * What senders and recipients see when the history store refuses one message of a shared group
 * commit, or commits a message but its reply is lost: through a real router node and real
 * WebSockets, on a real history store wrapped to inject the faults.
 */
import t, { type Test } from 'tap';
import type { HistoryStore, NewMessage } from '../../db/history.port.ts';
import { poisonBodyFor } from '../../db/test/history.stores.ts';
import type { ServerFrame } from '../../protocol/frames.ts';
import { generateVapidKeys } from '../../workers/tasks/vapid.ts';
import type { Task } from '../../workers/tasks/task.types.ts';
import { deleteQueues } from '../../test/support/amqp.queues.ts';
import { loadConfig } from '../src/config.ts';
import { HistoryBatcher } from '../src/chat/history.batcher.ts';
import { createLogger } from '../../kit/logger.ts';
import { openStores, type Stores } from '../src/stores.ts';
import { override } from '../../test/support/override.ts';
import { modes, startNode, testNodeEnv, type Harness, type TestClient } from '../../test/support/router.harness.ts';
import { uniqueName } from '../../test/support/services.ts';
import { waitFor } from '../../test/support/wait.ts';

type Reply = Extract<ServerFrame, { type: 'message.sent' | 'error' }>;

/** The ack or error answering `clientMsgId`; waits for it. */
const replyTo = (client: TestClient, clientMsgId: string) =>
  client.nextWhere((f): f is Reply => (f.type === 'message.sent' || f.type === 'error') && f.ref === clientMsgId, 10_000, `reply to ${clientMsgId}`);

const roomOf = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;

/** The body the store is given as its poison: the edge may refuse a NUL body, but lets this through. */
const MARKER = 'a body the store is given as its poison';

/**
 * A node on the services of `base` whose history store is the real one with faults a test turns on:
 * it appends one batch at a time and can hold them, it refuses the MARKER body as the real store
 * refuses its poison, and it can lose the reply of a commit. Push is on (VAPID keys) with a task
 * queue of its own (presence keys are named after it, and user ids repeat across test databases),
 * and every task it enqueues is recorded.
 */
async function faultyNode(t: Test, base: Record<string, string>) {
  const vapid = generateVapidKeys();
  const env: Record<string, string> = { ...base, VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, TASK_QUEUE: uniqueName('tasks') };
  const amqpUrl = env.AMQP_URL;
  if (amqpUrl) t.teardown(() => deleteQueues(amqpUrl, env.TASK_QUEUE!, []));
  const stores: Stores = await openStores(loadConfig(testNodeEnv(env)), createLogger('silent'));
  t.teardown(() => stores.close());
  const real = stores.history;
  const poison = poisonBodyFor(real);
  const faults = {
    poison,
    /** Every batch the store was given. */
    appends: [] as NewMessage[][],
    /** Appends wait for it. */
    gate: Promise.resolve(),
    /** clientMsgIds whose next commit succeeds but whose reply is lost. */
    loseOnce: new Set<string>(),
    /** Messages handed to the group commit. */
    submitted: 0,
  };
  const history = override(real, {
    append: async (batch: readonly NewMessage[]) => {
      faults.appends.push([...batch]);
      await faults.gate;
      const outcomes = await real.append(batch.map((m) => (m.body === MARKER ? { ...m, body: poison } : m)));
      if (batch.some((m) => faults.loseOnce.delete(m.clientMsgId))) throw new Error('connection lost after the commit');
      return outcomes;
    },
  });
  const tasks: Task[] = [];
  const recording = override(stores.tasks, {
    publish: async (task: Task) => {
      tasks.push(task);
      await stores.tasks.publish(task);
    },
  });
  // One batch at a time, counting what reaches it: while a held batch is in the store, what comes
  // next queues up and goes as the next batch, whatever the machine's speed.
  const batcher = new HistoryBatcher(history, { maxInFlight: 1 });
  const counting = override(batcher, {
    append: (m: NewMessage) => {
      faults.submitted++;
      return batcher.append(m);
    },
  });
  const h = await startNode(t, env, { ...stores, history, tasks: recording }, { batcher: counting });
  return { h, tasks, faults };
}

for (const mode of modes(t, 'store faults')) {
  t.test(`on the ${mode.name}`, async (t) => {
    const { h, tasks, faults } = await faultyNode(t, await mode.env(t));

    t.test('a poison in a burst fails alone; every honest message of the burst is acknowledged once and delivered', async (t) => {
      let release!: () => void;
      faults.gate = new Promise<void>((resolve) => (release = resolve));
      t.teardown(() => release());
      const before = { appends: faults.appends.length, submitted: faults.submitted };
      const hostile = await h.user('hostile');
      const senders = await Promise.all(Array.from({ length: 6 }, (_, i) => h.user(`sender${i}`)));
      const recipients = await Promise.all(Array.from({ length: 3 }, (_, i) => h.user(`recipient${i}`)));
      const hc = await hostile.connect();
      const sc = await Promise.all(senders.map((u) => u.connect()));
      const rc = await Promise.all(recipients.map((u) => u.connect()));
      /** Every honest message: who sent it, to whom, in send order. */
      const honest: Array<{ client: TestClient; from: number; to: number; id: string; body: string }> = [];
      const send = (client: TestClient, from: number, to: number, id: string, body: string) => {
        client.send({ type: 'message.send', to, clientMsgId: id, body });
        honest.push({ client, from, to, id, body });
      };

      send(sc[0]!, senders[0]!.id, recipients[0]!.id, 'gate', 'held in the first batch');
      t.ok(await waitFor(() => faults.appends.length === before.appends + 1, 30_000), 'the first batch is in the store, held');
      hc.send({ type: 'message.send', to: recipients[1]!.id, clientMsgId: 'nul', body: 'x\u0000y' });
      t.ok(await waitFor(() => faults.submitted === before.submitted + 2 || hc.all('error').some((f) => f.ref === 'nul'), 30_000), 'the NUL body is queued or refused at the edge');
      const nulQueued = faults.submitted === before.submitted + 2;
      hc.send({ type: 'message.send', to: recipients[0]!.id, clientMsgId: 'marker', body: MARKER });
      send(hc, hostile.id, recipients[0]!.id, 'behind', 'behind the poison, in its room');
      for (let k = 0; k < 4; k++) {
        senders.forEach((s, i) => send(sc[i]!, s.id, recipients[i % 3]!.id, `s${i}-${k}`, `message ${k} from sender ${i}`));
      }
      // The honest messages but the held one, the poison, and the NUL body if it got past the edge.
      const burst = honest.length - 1 + 1 + (nulQueued ? 1 : 0);
      t.ok(await waitFor(() => faults.submitted === before.submitted + 1 + burst, 30_000), `the burst (${burst} messages) is queued behind it`);
      release();

      const replies = await Promise.all(honest.map((m) => replyTo(m.client, m.id)));
      t.same(replies.map((r) => r.type), honest.map(() => 'message.sent'), 'every honest message is acknowledged');
      t.same(faults.appends[before.appends + 1]?.length, burst, 'the burst, poison included, was one batch');
      t.match(await replyTo(hc, 'marker'), { type: 'error', code: 'message_rejected' }, 'the poison gets the final error');
      const nul = await replyTo(hc, 'nul');
      const nulOutcomes = faults.poison.includes('\u0000') ? ['invalid_frame', 'message_rejected'] : ['invalid_frame', 'message.sent'];
      t.ok(nulOutcomes.includes(nul.type === 'error' ? nul.code : nul.type), `the NUL body is refused at the edge or by the store, where the store refuses it (${JSON.stringify(nul)})`);
      t.ok(
        honest.every((m) => m.client.all('message.sent').filter((f) => f.ref === m.id).length === 1),
        'each honest message is acknowledged exactly once',
      );

      for (const room of new Set(honest.map((m) => roomOf(m.from, m.to)))) {
        const sent = honest.filter((m) => roomOf(m.from, m.to) === room).map((m) => m.id);
        const held = await h.stores.history.after(room, 0, 100);
        t.same(held.map((m) => [m.seq, m.clientMsgId]), sent.map((id, i) => [i + 1, id]), `room ${room} holds its honest messages gap-free, in send order`);
      }
      for (const [i, r] of recipients.entries()) {
        const mine = honest.filter((m) => m.to === r.id);
        await Promise.all(mine.map((m) => rc[i]!.next('message.new', (f) => f.message.clientMsgId === m.id && f.message.sender === m.from)));
        t.pass(`recipient ${i} received its ${mine.length} messages live`);
      }
    });

    t.test('a message stored whose reply was lost reaches its recipients when the sender retries it', async (t) => {
      // The commits of these succeed, but their first replies are lost, as on a dropped connection.
      for (const id of ['lost-live', 'lost-push']) faults.loseOnce.add(id);
      const alice = await h.user('alice');
      const bob = await h.user('bob');
      const carol = await h.user('carol');
      const a = await alice.connect();
      const b = await bob.connect();
      const notifier = h.node.notifications.notifier;
      const pushesTo = (user: number, seq: number) => tasks.filter((k) => k.kind === 'push.message' && k.recipient === user && k.seq === seq).length;

      t.test('a connected recipient gets it live, without a reconnect', async (t) => {
        const first = await a.sendMessage({ to: bob.id }, 'hello bob', 'lost-live');
        t.match(first, { type: 'error', code: 'unavailable', message: /may or may not have been stored; retry with the same clientMsgId/ }, 'the sender is told the outcome is unknown');
        const [stored] = await h.stores.history.after(roomOf(alice.id, bob.id), 0, 10);
        t.match(stored, { clientMsgId: 'lost-live' }, 'yet the message was stored');
        t.match(await a.sendMessage({ to: bob.id }, 'hello bob', 'lost-live'), { type: 'message.sent', duplicate: true, seq: stored?.seq }, 'the retry is a duplicate of it');
        const live = await b.next('message.new', (f) => f.message.clientMsgId === 'lost-live');
        t.same(live.message, stored, 'bob receives the stored message live');
      });

      t.test('an offline recipient gets a push task for it, and none once their device has it', async (t) => {
        const first = await a.sendMessage({ to: carol.id }, 'hello carol', 'lost-push');
        t.match(first, { type: 'error', code: 'unavailable' }, 'the first reply is lost');
        await notifier.drained();
        const [stored] = await h.stores.history.after(roomOf(alice.id, carol.id), 0, 10);
        if (!stored) return t.fail('the message was not stored');
        t.equal(pushesTo(carol.id, stored.seq), 0, 'the lost attempt enqueued nothing');
        t.match(await a.sendMessage({ to: carol.id }, 'hello carol', 'lost-push'), { type: 'message.sent', duplicate: true }, 'the retry is a duplicate');
        await notifier.drained();
        t.equal(pushesTo(carol.id, stored.seq), 1, 'the retry enqueues a push task for carol');

        const c = await carol.connect();
        c.send({ type: 'message.ack', room: stored.room, seq: stored.seq });
        await a.next('receipt', (f) => f.kind === 'delivered' && f.user === carol.id && f.seq === stored.seq);
        await c.close();
        await a.next('presence', (f) => f.user === carol.id && !f.online);
        t.match(await a.sendMessage({ to: carol.id }, 'hello carol', 'lost-push'), { type: 'message.sent', duplicate: true }, 'another retry is a duplicate');
        await notifier.drained();
        t.equal(pushesTo(carol.id, stored.seq), 1, 'and enqueues nothing more: carol reported having it');
      });
    });
  });
}
