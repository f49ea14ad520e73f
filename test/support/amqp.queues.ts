/** Helpers for the worker tests: cleaning up RabbitMQ queues a test declared. */
import amqp from 'amqplib';

/** Deletes a task queue and its dead-letter and delay queues (delays as the tests use them). */
export async function deleteQueues(url: string, name: string, delays: number[] = [100, 200, 400, 800, 1000, 50]): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    for (const q of [name, `${name}.dead`, ...delays.map((d) => `${name}.retry.${d}`)]) {
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      await ch.deleteQueue(q).catch(() => {});
      await ch.close().catch(() => {});
    }
  } finally {
    await conn.close();
  }
}
