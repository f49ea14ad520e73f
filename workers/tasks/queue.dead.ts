/**
 * The dead-letter queue's inspection on RabbitMQ (`npm run dlq`), each on a channel of its own that
 * is closed afterwards: messages fetched and not acked go back to the queue when it closes.
 */
import type { Channel, GetMessage } from 'amqplib';
import type { DeadLetter } from './queue.port.ts';

/** Up to `limit` dead letters, oldest first, left in the queue: a look, not a take. */
export async function listDeadOn(ch: Channel, queue: string, limit: number): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  try {
    while (out.length < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      out.push(deadLetterOf(msg));
    }
  } finally {
    await ch.close().catch(() => {});
  }
  return out;
}

/** Moves up to `limit` dead letters through `publish` (confirmed first, then acked here); returns how many. */
export async function requeueDeadOn(ch: Channel, queue: string, limit: number, publish: (content: Buffer) => Promise<void>): Promise<number> {
  let moved = 0;
  try {
    while (moved < limit) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) break;
      await publish(msg.content);
      ch.ack(msg);
      moved++;
    }
  } finally {
    await ch.close().catch(() => {});
  }
  return moved;
}

function deadLetterOf(msg: GetMessage): DeadLetter {
  const h = msg.properties.headers ?? {};
  return {
    content: msg.content.toString('utf8'),
    reason: String(h['x-reason'] ?? ''),
    attempt: Number(h['x-attempt']) || 1,
    at: Number(h['x-dead-at']) || 0,
  };
}

