import amqp from 'amqplib';
import t from 'tap';

import { need, uniqueName } from '../../test/support/services.ts';
import { AmqpBus } from '../src/bus.amqp.ts';
import { MemoryBus } from '../src/bus.memory.ts';
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

t.test('the RabbitMQ bus', async (t) => {
  const url = need(t, 'AMQP_URL', 'RabbitMQ bus');
  if (!url) return;
  // One connection for the test itself: raw publishes and deleting each case's exchange.
  const admin = await amqp.connect(url);
  const channel = await admin.createConfirmChannel();
  t.teardown(() => admin.close());

  await busContract(t, {
    multiNode: true,
    wire: true,
    async open(t) {
      const exchange = uniqueName('bus');
      const errors: Error[] = [];
      const onError = (err: Error) => errors.push(err);
      const a = await AmqpBus.open({ url, exchange, nodeId: uniqueName('a'), onError });
      const b = await AmqpBus.open({ url, exchange, nodeId: uniqueName('b'), onError });
      t.teardown(async () => {
        await a.close();
        await b.close();
        await channel.deleteExchange(exchange);
      });
      const publishRaw = async (content: Buffer) => {
        channel.publish(exchange, '', content);
        await channel.waitForConfirms();
      };
      return { a, b, errors, publishRaw };
    },
  });

  t.test('opening against an exchange of another type rejects', async (t) => {
    const exchange = uniqueName('bus');
    await channel.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    t.teardown(() => channel.deleteExchange(exchange));
    await t.rejects(AmqpBus.open({ url, exchange, nodeId: 'x' }), 'open fails instead of running on the wrong topology');
  });
});
