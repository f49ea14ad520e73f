/**
 * The task queue's contract, run against every implementation through the real runner: delivery,
 * retries with growing delays then the dead-letter queue, malformed messages, idempotency keys,
 * re-queueing dead letters and graceful stop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { MemoryIdempotencyStore } from '../../db/idempotency.memory.ts';
import { createLogger } from '../../kit/logger.ts';
import type { TaskQueue } from '../tasks/queue.port.ts';
import { TaskRunner, type Handlers, type Outcome } from '../src/task.runner.ts';
import { newTask, type Task } from '../tasks/task.types.ts';
import { until } from '../../test/support/wait.ts';

export interface QueueFactory {
  /** A fresh, empty queue of its own; closed by the contract. */
  open(t: Test): Promise<TaskQueue & { publishMalformed(content: string): Promise<void> }>;
}

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** A push task body for the recipient 2 in room 1-2. */
export const pushBody = (seq: number) =>
  ({ kind: 'push.message', recipient: 2, sender: { id: 1, handle: 'a', displayName: 'A' }, room: '1-2', seq, messageId: `m${seq}`, preview: 'hi' }) as const;

function runnerFor(t: Test, queue: TaskQueue, push: (task: Task, attempt: number) => Promise<Outcome>, extra: Partial<ConstructorParameters<typeof TaskRunner>[0]> = {}) {
  const handlers: Handlers = {
    'push.message': (task, { attempt }) => push(task, attempt),
    'email.digest': async () => ({ status: 'done' }),
  };
  const runner = new TaskRunner({ queue, handlers, idempotency: new MemoryIdempotencyStore(), log, concurrency: 2, retryBaseMs: 100, retryMaxMs: 1000, maxAttempts: 3, ...extra });
  t.teardown(() => runner.stop());
  return runner;
}

export function taskQueueContract(t: Test, factory: QueueFactory): void {
  t.test('a published task is delivered to its handler once and acknowledged', async (t) => {
    const queue = await factory.open(t);
    const seen: Task[] = [];
    const runner = runnerFor(t, queue, async (task) => (seen.push(task), { status: 'done' }));
    await runner.start();
    const task = newTask(pushBody(1));
    await queue.publish(task);
    await until(() => runner.stats.processed === 1, 10_000, 'the task to be processed');
    t.same(seen.map((s) => s.id), [task.id], 'the handler got exactly the published task');
    t.equal(seen[0]?.kind, 'push.message', 'with its kind');
    t.same((await queue.listDead(10)).length, 0, 'nothing was dead-lettered');
  });

  t.test('a failing handler is retried with growing delays, then the task is dead-lettered', async (t) => {
    const queue = await factory.open(t);
    const attempts: Array<{ attempt: number; at: number }> = [];
    const runner = runnerFor(t, queue, async (_task, attempt) => {
      attempts.push({ attempt, at: Date.now() });
      return { status: 'retry', reason: 'endpoint answered 503' };
    });
    await runner.start();
    await queue.publish(newTask(pushBody(2)));
    await until(() => runner.stats.deadLettered === 1, 15_000, 'the task to be dead-lettered');
    t.same(attempts.map((a) => a.attempt), [1, 2, 3], 'the handler ran for attempts 1, 2 and 3 (the limit)');
    const gap1 = attempts[1]!.at - attempts[0]!.at;
    const gap2 = attempts[2]!.at - attempts[1]!.at;
    t.ok(gap1 >= 90, `the first retry waited the base delay (${gap1} ms >= 100 ms, less timer slack)`);
    t.ok(gap2 >= 190, `the second retry waited twice as long (${gap2} ms >= 200 ms)`);
    t.equal(runner.stats.retried, 2, 'two retries were counted');
    const dead = await queue.listDead(10);
    t.equal(dead.length, 1, 'the dead-letter queue holds the task');
    t.match(dead[0]?.reason, /gave up after 3 attempts: endpoint answered 503/, 'with the reason it was given up');
    t.equal(dead[0]?.attempt, 3, 'and its attempt count');
    t.equal((await queue.listDead(10)).length, 1, 'listing does not remove it');
  });

  t.test('a permanent failure is dead-lettered at once', async (t) => {
    const queue = await factory.open(t);
    let calls = 0;
    const runner = runnerFor(t, queue, async () => (calls++, { status: 'failed', reason: 'VAPID keys rejected (403)' }));
    await runner.start();
    await queue.publish(newTask(pushBody(3)));
    await until(() => runner.stats.deadLettered === 1, 10_000, 'the dead letter');
    t.equal(calls, 1, 'the handler ran once');
    t.match((await queue.listDead(1))[0]?.reason, /VAPID keys rejected/, 'the reason is kept');
  });

  t.test('malformed messages go to the dead-letter queue and the worker keeps going', async (t) => {
    const queue = await factory.open(t);
    const seen: number[] = [];
    const runner = runnerFor(t, queue, async (task) => (seen.push((task as Extract<Task, { kind: 'push.message' }>).seq), { status: 'done' }));
    await runner.start();
    await queue.publishMalformed('{ not json');
    await queue.publishMalformed(JSON.stringify({ kind: 'push.message', id: 'x', key: 'k', createdAt: 1 }));
    await queue.publishMalformed(JSON.stringify({ kind: 'launch.missiles', id: 'y', key: 'k2', createdAt: 1 }));
    await queue.publish(newTask(pushBody(4)));
    await until(() => runner.stats.processed === 1 && runner.stats.deadLettered === 3, 10_000, 'three dead letters and one task');
    t.same(seen, [4], 'the valid task still ran');
    const reasons = (await queue.listDead(10)).map((d) => d.reason);
    t.equal(reasons.length, 3, 'all three malformed messages are kept');
    t.ok(reasons.every((r) => r.startsWith('malformed: ')), `each says it was malformed (${reasons.join(' | ')})`);
    t.ok(reasons.some((r) => r.includes('not JSON')), 'non-JSON is named');
  });

  t.test('a task whose key is already done does not run again', async (t) => {
    const queue = await factory.open(t);
    let calls = 0;
    const runner = runnerFor(t, queue, async () => (calls++, { status: 'done' }));
    await runner.start();
    const task = newTask(pushBody(5));
    await queue.publish(task);
    await until(() => runner.stats.processed === 1, 10_000, 'the first copy');
    await queue.publish({ ...task, id: 'another-delivery-of-the-same-effect' });
    await until(() => runner.stats.duplicates === 1, 10_000, 'the duplicate to be skipped');
    t.equal(calls, 1, 'the handler ran once for two tasks with one key');
  });

  t.test('two copies of one task delivered at once run the handler once', async (t) => {
    const queue = await factory.open(t);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const runner = runnerFor(t, queue, async () => {
      calls++;
      await gate;
      return { status: 'done' };
    });
    // As after a publish repeated because its confirm was lost: same task, same key, twice in the queue.
    const task = newTask(pushBody(9));
    await queue.publish(task);
    await queue.publish(task);
    await runner.start();
    await until(() => runner.stats.inFlight === 2 && calls === 1, 10_000, 'both copies to be taken and the first to run');
    release();
    await until(() => runner.stats.processed === 1 && runner.stats.duplicates === 1, 10_000, 'one processed, one skipped');
    t.equal(calls, 1, 'the handler ran once for the two copies');
  });

  t.test('dead letters can be re-queued and then succeed', async (t) => {
    const queue = await factory.open(t);
    let healthy = false;
    const runner = runnerFor(t, queue, async () => (healthy ? { status: 'done' } : { status: 'failed', reason: 'down' }));
    await runner.start();
    await queue.publish(newTask(pushBody(6)));
    await until(() => runner.stats.deadLettered === 1, 10_000, 'the dead letter');
    healthy = true;
    t.equal(await queue.requeueDead(10), 1, 'one dead letter was re-queued');
    await until(() => runner.stats.processed === 1, 10_000, 'the re-queued task to run');
    t.equal((await queue.listDead(10)).length, 0, 'the dead-letter queue is empty');
  });

  t.test('stop lets a running task finish and takes no new ones', async (t) => {
    const queue = await factory.open(t);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: number[] = [];
    const runner = runnerFor(t, queue, async (task) => {
      started.push((task as Extract<Task, { kind: 'push.message' }>).seq);
      await gate;
      return { status: 'done' };
    }, { concurrency: 1, prefetch: 1 });
    await runner.start();
    await queue.publish(newTask(pushBody(7)));
    await until(() => started.length === 1, 10_000, 'the first task to start');
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await queue.publish(newTask(pushBody(8)));
    await sleep(100);
    t.notOk(stopped, 'stop waits for the running task');
    t.equal(runner.stats.inFlight, 1, 'one task is in flight');
    release();
    await stopping;
    t.equal(runner.stats.processed, 1, 'the running task was acknowledged');
    t.same(started, [7], 'the task published after stop was not taken');
  });
}
