/**
 * The task queue on RabbitMQ. Topology, for a queue named Q (TASK_QUEUE):
 *
 *   Q              quorum queue the workers consume (manual acks, bounded prefetch)
 *   Q.retry.<ms>   quorum queues without consumers, one per retry delay: a message waits there for
 *                  x-message-ttl = <ms>, then is dead-lettered back to Q through the default exchange
 *   Q.dead         quorum queue of tasks that failed past their attempt limit or are malformed,
 *                  kept for inspection (`npm run dlq -- list|requeue`)
 *
 * Every publish is persistent and waits for the broker's confirm. A retry publishes the next
 * attempt (header x-attempt) to its delay queue and acks the original only once that copy is
 * confirmed, so a crash in between duplicates a task rather than losing it (idempotency keys
 * absorb the duplicate). A consumer that dies holding a message gets it redelivered by the broker.
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { DeadLetter, Delivery, TaskQueue } from './task.queue.port.ts';
import type { Task } from './task.types.ts';

export interface AmqpTaskQueueOptions {
  /** Broker URL, e.g. amqp://guest:guest@127.0.0.1:5672. */
  url: string;
  /** Name of the main queue; the delay and dead-letter queues derive from it. Default 'messenger.tasks'. */
  queue?: string;
  /** Shown in the broker's connection list. */
  connectionName?: string;
  /** Transport errors. Default: ignore. */
  onError?: (err: Error) => void;
}

const QUORUM = { 'x-queue-type': 'quorum' };

export class AmqpTaskQueue implements TaskQueue {
  readonly #conn: ChannelModel;
  readonly #pub: ConfirmChannel;
  readonly #queue: string;
  readonly #onError: (err: Error) => void;
  readonly #delayQueues = new Map<number, Promise<void>>();
  #sub: Channel | undefined;
  #consumerTag: string | undefined;
  #broken: Error | undefined;
  #closing = false;

  private constructor(conn: ChannelModel, pub: ConfirmChannel, options: AmqpTaskQueueOptions) {
    this.#conn = conn;
    this.#pub = pub;
    this.#queue = options.queue ?? 'messenger.tasks';
    this.#onError = options.onError ?? (() => {});
    conn.on('error', (err: Error) => this.#report(err));
    conn.on('close', () => this.#lost('AMQP connection closed'));
    pub.on('error', (err: Error) => this.#report(err));
    pub.on('close', () => this.#lost('AMQP publish channel closed'));
  }

  /** Connects and declares the main and dead-letter queues. */
  static async open(options: AmqpTaskQueueOptions): Promise<AmqpTaskQueue> {
    // Without noDelay each confirm waits ~40 ms on Nagle + delayed ACK.
    const conn = await amqp.connect(options.url, { noDelay: true, clientProperties: { connection_name: options.connectionName ?? 'tasks' } });
    const ignore = (): void => {};
    conn.on('error', ignore);
    try {
      const pub = await conn.createConfirmChannel();
      const queue = new AmqpTaskQueue(conn, pub, options);
      await pub.assertQueue(queue.#queue, { durable: true, arguments: QUORUM });
      await pub.assertQueue(queue.deadQueue, { durable: true, arguments: QUORUM });
      return queue;
    } catch (err) {
      await conn.close().catch(ignore);
      throw err;
    } finally {
      conn.off('error', ignore);
    }
  }

  get deadQueue(): string {
    return `${this.#queue}.dead`;
  }

  /** The delay queue for `ms`, declared on first use. */
  delayQueue(ms: number): string {
    return `${this.#queue}.retry.${ms}`;
  }

  async publish(task: Task): Promise<void> {
    await this.publishRaw(this.#queue, Buffer.from(JSON.stringify(task)), { 'x-attempt': 1 });
  }

  /** Publishes raw bytes to a queue and waits for the confirm (tests send malformed messages with it). */
  publishRaw(queue: string, content: Buffer, headers: Record<string, unknown>): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      try {
        this.#pub.sendToQueue(queue, content, { persistent: true, contentType: 'application/json', headers }, (err: unknown) =>
          err ? reject(new Error(`the broker did not confirm a task for ${queue}`, { cause: err })) : resolve(),
        );
      } catch (err) {
        reject(err);
      }
    });
  }

  async consume(onDelivery: (d: Delivery) => void, prefetch: number): Promise<void> {
    const sub = await this.#conn.createChannel();
    sub.on('error', (err: Error) => this.#report(err));
    sub.on('close', () => {
      if (this.#sub === sub && !this.#closing) this.#lost('AMQP consume channel closed');
    });
    this.#sub = sub;
    await sub.prefetch(prefetch);
    const { consumerTag } = await sub.consume(
      this.#queue,
      (msg: ConsumeMessage | null) => {
        if (msg === null) return this.#lost('the broker cancelled the task consumer');
        onDelivery(this.#delivery(sub, msg));
      },
      { noAck: false },
    );
    this.#consumerTag = consumerTag;
  }

  async stopConsuming(): Promise<void> {
    if (this.#sub && this.#consumerTag) {
      const tag = this.#consumerTag;
      this.#consumerTag = undefined;
      await this.#sub.cancel(tag).catch((err: unknown) => this.#report(asError(err)));
    }
  }

  async listDead(limit: number): Promise<DeadLetter[]> {
    // Fetched unacked on a channel of their own, then returned by closing it: a look, not a take.
    const ch = await this.#conn.createChannel();
    ch.on('error', () => {});
    const out: DeadLetter[] = [];
    try {
      while (out.length < limit) {
        const msg = await ch.get(this.deadQueue, { noAck: false });
        if (!msg) break;
        out.push(deadLetterOf(msg));
      }
    } finally {
      await ch.close().catch(() => {});
    }
    return out;
  }

  async requeueDead(limit: number): Promise<number> {
    const ch = await this.#conn.createChannel();
    ch.on('error', () => {});
    let moved = 0;
    try {
      while (moved < limit) {
        const msg = await ch.get(this.deadQueue, { noAck: false });
        if (!msg) break;
        // Confirmed on the main queue before it leaves the dead-letter queue: never lost.
        await this.publishRaw(this.#queue, msg.content, { 'x-attempt': 1, 'x-requeued-at': Date.now() });
        ch.ack(msg);
        moved++;
      }
    } finally {
      await ch.close().catch(() => {});
    }
    return moved;
  }

  async ping(): Promise<void> {
    if (this.#broken) throw this.#broken;
    if (this.#closing) throw new Error('task queue is closed');
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const ignore = (): void => {};
    if (!this.#broken) {
      await this.#sub?.close().catch(ignore);
      await this.#pub.close().catch(ignore);
    }
    await this.#conn.close().catch(ignore);
  }

  #ensureDelayQueue(ms: number): Promise<void> {
    let declared = this.#delayQueues.get(ms);
    if (!declared) {
      declared = this.#pub
        .assertQueue(this.delayQueue(ms), {
          durable: true,
          arguments: {
            ...QUORUM,
            'x-message-ttl': ms,
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': this.#queue,
          },
        })
        .then(() => undefined);
      // A failed declaration is retried on the next retry rather than cached.
      declared.catch(() => this.#delayQueues.delete(ms));
      this.#delayQueues.set(ms, declared);
    }
    return declared;
  }

  #delivery(sub: Channel, msg: ConsumeMessage): Delivery {
    const headers = msg.properties.headers ?? {};
    const attempt = Math.max(1, Number(headers['x-attempt']) || 1);
    let settled = false;
    const once = (): void => {
      if (settled) throw new Error('delivery already settled');
      settled = true;
    };
    return {
      content: msg.content,
      attempt,
      redelivered: msg.fields.redelivered,
      ack: async () => {
        once();
        sub.ack(msg);
      },
      retry: async (delayMs, reason) => {
        once();
        const ms = Math.max(1, Math.round(delayMs));
        await this.#ensureDelayQueue(ms);
        await this.publishRaw(this.delayQueue(ms), msg.content, { 'x-attempt': attempt + 1, 'x-last-error': reason.slice(0, 500) });
        sub.ack(msg);
      },
      deadLetter: async (reason) => {
        once();
        await this.publishRaw(this.deadQueue, msg.content, { 'x-attempt': attempt, 'x-reason': reason.slice(0, 1000), 'x-dead-at': Date.now() });
        sub.ack(msg);
      },
    };
  }

  #lost(why: string): void {
    if (this.#broken || this.#closing) return;
    this.#broken = new Error(why);
    this.#report(this.#broken);
  }

  #report(err: Error): void {
    try {
      this.#onError(err);
    } catch {
      // The error callback must not break the queue.
    }
  }
}

function deadLetterOf(msg: { content: Buffer; properties: Options.Publish & { headers?: Record<string, unknown> } }): DeadLetter {
  const h = msg.properties.headers ?? {};
  return {
    content: msg.content.toString('utf8'),
    reason: String(h['x-reason'] ?? ''),
    attempt: Number(h['x-attempt']) || 1,
    at: Number(h['x-dead-at']) || 0,
  };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
