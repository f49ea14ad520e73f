import t from 'tap';
import { need, uniqueName } from '../../test/support/services.ts';
import { AmqpTaskQueue } from '../src/task.queue.amqp.ts';
import { MemoryTaskQueue } from '../src/task.queue.memory.ts';
import { deleteQueues } from './support.ts';
import { taskQueueContract } from './task.queue.contract.ts';

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
