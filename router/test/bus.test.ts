import amqp from 'amqplib';
import type { ConfirmChannel } from 'amqplib';
import t from 'tap';
import type { Test } from 'tap';

import { ManualTimers } from '../../test/support/manual.timers.ts';
import { need, uniqueName } from '../../test/support/services.ts';
import { startTcpProxy, targetOf, type TcpProxy } from '../../test/support/tcp.proxy.ts';
import { until } from '../../test/support/wait.ts';
import { AmqpBus } from '../src/live/bus.amqp.ts';
import type { AmqpBusOptions } from '../src/live/bus.amqp.ts';
import { MemoryBus } from '../src/live/bus.memory.ts';
import type { BusEvent } from '../src/live/bus.port.ts';
import { busContract } from './bus.contract.ts';

t.test('the in-process bus', async (t) => {
  await busContract(t, {
    multiNode: false,
    wire: false,
    async open(t) {
      const errors: Error[] = [];
      const bus = new MemoryBus({ onError: (err) => errors.push(err as Error) });
      t.teardown(() => bus.close());
      return { a: bus, b: bus, errors };
    },
  });
});

/** Reconnects within milliseconds, so a test waiting for recovery waits little. */
const QUICK = { minMs: 10, maxMs: 100 };

/**
 * Two nodes on a fresh exchange, closed and cleaned up when `t` ends; node `a` reaches the broker
 * through `proxy` when one is given.
 */
async function amqpPair(t: Test, url: string, admin: ConfirmChannel, extra: Partial<AmqpBusOptions> = {}, proxy?: TcpProxy) {
  const exchange = uniqueName('bus');
  const errors: Error[] = [];
  const onError = (err: Error) => errors.push(err);
  const a = await AmqpBus.open({ url: proxy ? proxy.via(url) : url, exchange, nodeId: uniqueName('a'), onError, reconnect: QUICK, ...extra });
  const b = await AmqpBus.open({ url, exchange, nodeId: uniqueName('b'), onError, reconnect: QUICK });
  t.teardown(async () => {
    await a.close();
    await b.close();
    await admin.deleteExchange(exchange);
  });
  const publishRaw = async (content: Buffer) => {
    admin.publish(exchange, '', content);
    await admin.waitForConfirms();
  };
  return { a, b, errors, exchange, publishRaw, ...(proxy ? { cut: proxy } : {}) };
}

t.test('the RabbitMQ bus', async (t) => {
  const url = need(t, 'AMQP_URL', 'RabbitMQ bus');
  if (!url) return;
  // One connection for the test itself: raw publishes and deleting each case's exchange.
  const connection = await amqp.connect(url);
  const admin = await connection.createConfirmChannel();
  t.teardown(() => connection.close());

  await busContract(t, { multiNode: true, wire: true, cuttable: true, open: async (t) => amqpPair(t, url, admin, {}, await startTcpProxy(t, targetOf(url))) });

  t.test('a burst still arrives complete and in order when the channel pushes back', async (t) => {
    // One event per message makes 5,000 messages, past amqplib's write buffer, so publish returns false.
    const { a, b } = await amqpPair(t, url, admin, { maxBatch: 1 });
    const seqs: number[] = [];
    let done = (): void => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    b.subscribe((e) => {
      if (e.kind === 'receipt' && seqs.push(e.seq) === 5000) done();
    });
    for (let seq = 0; seq < 5000; seq++) a.publish({ kind: 'receipt', room: '1-2', members: [1, 2], user: 2, receipt: 'read', seq });
    await t.resolves(a.flush(), 'flush resolves once the channel drained and the broker confirmed');
    await all;
    t.ok(seqs.every((seq, i) => seq === i), 'node B got all 5,000 in publish order');
  });

  t.test('a channel the broker closes is reported, fails readiness, keeps local delivery and is replaced after the backoff', async (t) => {
    const timers = new ManualTimers();
    const { a, errors, exchange } = await amqpPair(t, url, admin, { reconnect: { minMs: 40, maxMs: 1000, timers, random: () => 0.5 } });
    const local: BusEvent[] = [];
    a.subscribe((e) => local.push(e));
    await t.resolves(a.ping(), 'the node is ready while connected');
    // Publishing to a deleted exchange makes the broker close the publishing channel (404).
    await admin.deleteExchange(exchange);
    const event: BusEvent = { kind: 'session.ended', user: 1, sessions: ['s'] };
    a.publish(event);
    await a.flush();
    await until(() => timers.pending === 1, 10_000, 'a reconnect to be scheduled');
    t.same(timers.delays, [30], 'the first reconnect waits within the first backoff step (40 ms, jittered to its upper half)');
    t.ok(errors.some((e) => /channel closed/.test(e.message)), `the failure was reported through onError (${errors.map((e) => e.message).join(' | ')})`);
    await t.rejects(a.ping(), 'ping rejects until the reconnect ran: the node is not ready');
    t.same(local, [event], 'the node\'s own subscriber still got the event');
    t.doesNotThrow(() => a.publish(event), 'publishing on a broken bus does not throw');
    timers.fireAll();
    await until(() => a.ping().then(() => true, () => false), 10_000, 'the node to be ready again');
    t.pass('the node is ready again once the reconnect ran');
    await t.resolves(admin.checkExchange(exchange), 'the exchange was declared again');
    await t.resolves(a.close(), 'close resolves');
  });

  t.test('close while the broker is unreachable stops reconnecting and leaves nothing open', async (t) => {
    const proxy = await startTcpProxy(t, targetOf(url));
    const timers = new ManualTimers();
    const errors: Error[] = [];
    const bus = await AmqpBus.open({ url: proxy.via(url), exchange: uniqueName('bus'), nodeId: uniqueName('a'), onError: (e) => errors.push(e), reconnect: { minMs: 10, maxMs: 100, timers } });
    t.teardown(() => bus.close());
    proxy.sever();
    await until(() => timers.pending === 1, 10_000, 'a reconnect to be scheduled');
    timers.fireAll();
    await until(() => timers.pending === 1, 10_000, 'the failed attempt to schedule the next one');
    t.ok(errors.some((e) => /reconnect attempt 1 failed/.test(e.message)), 'the failed attempt was reported');
    t.ok(timers.delays[0]! >= 10 && timers.delays[0]! <= 20, `the second delay is within the doubled step (${timers.delays[0]} ms)`);
    await t.resolves(bus.close(), 'close resolves while a reconnect is pending');
    t.equal(timers.pending, 0, 'no reconnect timer is left');
    proxy.restore();
    t.equal(proxy.open, 0, 'no connection through the proxy is open');
    await t.rejects(bus.ping(), 'a closed bus is not ready');
  });

  t.test('opening against an exchange of another type rejects', async (t) => {
    const exchange = uniqueName('bus');
    await admin.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    t.teardown(() => admin.deleteExchange(exchange));
    await t.rejects(AmqpBus.open({ url, exchange, nodeId: 'x' }), 'open fails instead of running on the wrong topology');
  });
});
