import amqp from 'amqplib';
import type { ConfirmChannel } from 'amqplib';
import t from 'tap';
import type { Test } from 'tap';

import { need, uniqueName } from '../../test/support/services.ts';
import { waitFor } from '../../test/support/wait.ts';
import { AmqpBus } from '../src/bus.amqp.ts';
import type { AmqpBusOptions } from '../src/bus.amqp.ts';
import { MemoryBus } from '../src/bus.memory.ts';
import type { BusEvent } from '../src/bus.port.ts';
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

/** Two nodes on a fresh exchange, closed and cleaned up when `t` ends. */
async function amqpPair(t: Test, url: string, admin: ConfirmChannel, extra: Partial<AmqpBusOptions> = {}) {
  const exchange = uniqueName('bus');
  const errors: Error[] = [];
  const onError = (err: Error) => errors.push(err);
  const a = await AmqpBus.open({ url, exchange, nodeId: uniqueName('a'), onError, ...extra });
  const b = await AmqpBus.open({ url, exchange, nodeId: uniqueName('b'), onError });
  t.teardown(async () => {
    await a.close();
    await b.close();
    await admin.deleteExchange(exchange);
  });
  const publishRaw = async (content: Buffer) => {
    admin.publish(exchange, '', content);
    await admin.waitForConfirms();
  };
  return { a, b, errors, exchange, publishRaw };
}

t.test('the RabbitMQ bus', async (t) => {
  const url = need(t, 'AMQP_URL', 'RabbitMQ bus');
  if (!url) return;
  // One connection for the test itself: raw publishes and deleting each case's exchange.
  const connection = await amqp.connect(url);
  const admin = await connection.createConfirmChannel();
  t.teardown(() => connection.close());

  await busContract(t, { multiNode: true, wire: true, open: (t) => amqpPair(t, url, admin) });

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

  t.test('a lost channel is reported, fails readiness and keeps local delivery', async (t) => {
    const { a, errors, exchange } = await amqpPair(t, url, admin);
    const local: BusEvent[] = [];
    a.subscribe((e) => local.push(e));
    await t.resolves(a.ping(), 'the node is ready while connected');
    // Publishing to a deleted exchange makes the broker close the publishing channel.
    await admin.deleteExchange(exchange);
    const event: BusEvent = { kind: 'session.ended', user: 1, sessions: ['s'] };
    a.publish(event);
    await a.flush();
    await waitFor(() => errors.length > 0);
    t.ok(errors.length > 0, `the failure was reported through onError (${errors[0]?.message})`);
    await t.rejects(a.ping(), 'ping rejects: the node is not ready');
    t.same(local, [event], 'the node\'s own subscriber still got the event');
    t.doesNotThrow(() => a.publish(event), 'publishing on a broken bus does not throw');
    await t.resolves(a.close(), 'close resolves');
  });

  t.test('opening against an exchange of another type rejects', async (t) => {
    const exchange = uniqueName('bus');
    await admin.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    t.teardown(() => admin.deleteExchange(exchange));
    await t.rejects(AmqpBus.open({ url, exchange, nodeId: 'x' }), 'open fails instead of running on the wrong topology');
  });
});
