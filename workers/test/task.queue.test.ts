import amqp from 'amqplib';
import t, { type Test } from 'tap';
import { MemoryIdempotencyStore } from '../../db/idempotency.memory.ts';
import { createLogger } from '../../kit/logger.ts';
import { ManualTimers } from '../../test/support/manual.timers.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { startTcpProxy, targetOf } from '../../test/support/tcp.proxy.ts';
import { AmqpTaskQueue, type AmqpTaskQueueOptions } from '../tasks/queue.amqp.ts';
import { MemoryTaskQueue } from '../tasks/queue.memory.ts';
import type { TaskQueue } from '../tasks/queue.port.ts';
import { TaskRunner } from '../src/task.runner.ts';
import { newTask, type Task } from '../tasks/task.types.ts';
import { deleteQueues } from '../../test/support/amqp.queues.ts';
import { pushBody as push, taskQueueContract } from './task.queue.contract.ts';
import { until } from '../../test/support/wait.ts';

t.test('the in-process task queue', async (t) => {
  taskQueueContract(t, {
    open: async (tt) => {
      const q = new MemoryTaskQueue();
      tt.teardown(() => q.close());
      return Object.assign(q, { publishMalformed: async (c: string) => q.publishRaw(Buffer.from(c)) });
    },
  });
});

t.test('the RabbitMQ task queue', async (t) => {
  const url = need(t, 'AMQP_URL', 'RabbitMQ task queue contract');
  if (!url) return;
  taskQueueContract(t, {
    open: async (tt) => {
      const name = uniqueName('tasks');
      const q = await AmqpTaskQueue.open({ url, queue: name });
      tt.teardown(async () => {
        await q.close();
        await deleteQueues(url, name);
      });
      return Object.assign(q, { publishMalformed: (c: string) => q.publishRaw(name, Buffer.from(c), { 'x-attempt': 1 }) });
    },
  });
});

t.test('the RabbitMQ task queue across a broker outage', async (t) => {
  const maybeUrl = need(t, 'AMQP_URL', 'RabbitMQ task queue outage');
  if (!maybeUrl) return;
  const url = maybeUrl;
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const ready = (q: TaskQueue) => q.ping().then(() => true, () => false);

  /** A queue of its own reached through a proxy the test cuts, and a direct one on the same name. */
  async function setup(tt: Test, extra: Partial<AmqpTaskQueueOptions> = {}) {
    const name = uniqueName('tasks');
    const proxy = await startTcpProxy(tt, targetOf(url));
    const errors: Error[] = [];
    const cut = await AmqpTaskQueue.open({ url: proxy.via(url), queue: name, reconnect: { minMs: 10, maxMs: 100 }, onError: (e) => errors.push(e), ...extra });
    const direct = await AmqpTaskQueue.open({ url, queue: name });
    tt.teardown(async () => {
      await cut.close();
      await direct.close();
      await deleteQueues(url, name);
    });
    return { name, proxy, cut, direct, errors };
  }

  function runner(tt: Test, queue: TaskQueue, seen: Task[], concurrency = 4) {
    const r = new TaskRunner({
      queue,
      handlers: { 'push.message': async (task) => (seen.push(task), { status: 'done' }), 'email.digest': async () => ({ status: 'done' }) },
      idempotency: new MemoryIdempotencyStore(),
      log,
      concurrency,
    });
    tt.teardown(() => r.stop());
    return r;
  }

  t.test('a task published while the broker is unreachable is kept and delivered once it is back', async (t) => {
    const { proxy, cut, direct } = await setup(t);
    const seen: Task[] = [];
    await runner(t, direct, seen).start();
    proxy.sever();
    await until(async () => !(await ready(cut)), 10_000, 'the producer to notice the outage');
    t.pass('the producer is unready while the broker is out of reach');
    const tasks = [1, 2, 3].map((seq) => newTask(push(seq)));
    let confirmed = 0;
    const published = Promise.all(tasks.map((task) => cut.publish(task).then(() => confirmed++)));
    t.equal(cut.outboxStats().pending, 3, 'the three tasks are kept until the broker confirms them');
    t.equal(confirmed, 0, 'none is confirmed while the broker is unreachable');
    proxy.restore();
    await t.resolves(published, 'every publish resolves once the broker is back and confirmed it');
    await until(() => seen.length === 3, 10_000, 'the three tasks to reach the consumer');
    t.same(seen.map((s) => s.id), tasks.map((s) => s.id), 'each arrived once, in publish order');
    t.equal(cut.outboxStats().pending, 0, 'nothing is left waiting');
    t.ok(await ready(cut), 'the producer is ready again');
  });

  t.test('a consumer cut off from the broker resumes by itself', async (t) => {
    const { proxy, cut, direct } = await setup(t);
    const seen: Task[] = [];
    const r = runner(t, cut, seen);
    await r.start();
    await direct.publish(newTask(push(1)));
    await until(() => seen.length === 1, 10_000, 'the first task');
    proxy.sever();
    await until(async () => !(await ready(cut)), 10_000, 'the consumer to notice the outage');
    await direct.publish(newTask(push(2)));
    proxy.restore();
    await until(() => ready(cut), 10_000, 'the consumer to be ready again');
    t.pass('the consumer is ready again by itself');
    await until(() => seen.length === 2, 10_000, 'the task published during the outage');
    t.same(seen.map((s) => (s as Extract<Task, { kind: 'push.message' }>).seq), [1, 2], 'consuming resumed with the same handler');
  });

  t.test('past TASK_PENDING_MAX a new task is refused at once; those kept stay kept', async (t) => {
    const { proxy, cut, direct } = await setup(t, { maxPending: 2 });
    const seen: Task[] = [];
    await runner(t, direct, seen).start();
    proxy.sever();
    await until(async () => !(await ready(cut)), 10_000, 'the producer to notice the outage');
    const kept = [cut.publish(newTask(push(1))), cut.publish(newTask(push(2)))];
    await t.rejects(cut.publish(newTask(push(3))), /TASK_PENDING_MAX/, 'the third is refused, naming the bound');
    t.same(cut.outboxStats(), { pending: 2, refused: 1 }, 'two kept, one refused and counted');
    proxy.restore();
    await t.resolves(Promise.all(kept), 'the kept ones are confirmed after the outage');
    await until(() => seen.length === 2, 10_000, 'the kept tasks to arrive');
    t.pass('both kept tasks arrived');
  });

  t.test('a queue redeclared with other arguments fails every reconnect (406), keeps the queue unready, and heals once it is put right', async (t) => {
    const timers = new ManualTimers();
    const { name, proxy, cut, errors } = await setup(t, { reconnect: { minMs: 10, maxMs: 100, timers } });
    proxy.sever();
    await until(() => timers.pending === 1, 10_000, 'a reconnect to be scheduled');
    // Meanwhile someone recreates the dead-letter queue as a classic queue.
    const admin = await amqp.connect(url);
    t.teardown(() => admin.close());
    const ch = await admin.createChannel();
    await ch.deleteQueue(`${name}.dead`);
    await ch.assertQueue(`${name}.dead`, { durable: true });
    proxy.restore();
    timers.fireAll();
    await until(() => timers.pending === 1, 10_000, 'the failed attempt to schedule the next one');
    t.ok(errors.some((e) => /reconnect attempt 1 failed: .*PRECONDITION/.test(e.message)), 'the broker\'s 406 is reported with the attempt');
    t.notOk(await ready(cut), 'the queue stays unready: it would not run on the wrong topology');
    const kept = cut.publish(newTask(push(1)));
    await ch.deleteQueue(`${name}.dead`);
    timers.fireAll();
    await until(() => ready(cut), 10_000, 'the queue to be ready again');
    t.pass('the next attempt declares the queue as it should be and the queue is ready');
    await t.resolves(kept, 'the task kept meanwhile is confirmed');
  });

  t.test('close while the broker is unreachable stops reconnecting and rejects what it kept', async (t) => {
    const timers = new ManualTimers();
    const { proxy, cut, errors } = await setup(t, { reconnect: { minMs: 10, maxMs: 100, timers } });
    proxy.sever();
    await until(() => timers.pending === 1, 10_000, 'a reconnect to be scheduled');
    const kept = cut.publish(newTask(push(1)));
    await t.resolves(cut.close(), 'close resolves while a reconnect is pending');
    await t.rejects(kept, /closed before the broker confirmed/, 'the unconfirmed task is rejected, not left hanging');
    t.ok(errors.some((e) => /1 tasks the broker never confirmed/.test(e.message)), 'the loss is reported');
    t.equal(timers.pending, 0, 'no timer is left');
    await t.rejects(cut.ping(), 'a closed queue is not ready');
  });
});
