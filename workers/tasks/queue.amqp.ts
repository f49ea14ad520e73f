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
 *
 * The connection comes back by itself (amqp.link.ts): Q and Q.dead are declared again, delay
 * queues again on first use, and consuming resumes with the same handler and prefetch. A new task
 * (publish()) is kept in memory until the broker confirms it, across outages (kit/amqp.outbox.ts);
 * ping() fails while the link is down. Deliveries taken before an outage cannot be settled after
 * it (their channel is gone): the broker redelivers them.
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AmqpLink, DEFAULT_BACKOFF, systemTimers, type LinkContext, type ReconnectOptions } from '../../kit/amqp.link.ts';
import { DEFAULT_PENDING_MAX, TaskOutbox, type OutboxStats } from '../../kit/amqp.outbox.ts';
import { listDeadOn, requeueDeadOn } from './queue.dead.ts';
import type { DeadLetter, Delivery, TaskQueue } from './queue.port.ts';
import type { Task } from './task.types.ts';

export interface AmqpTaskQueueOptions {
  /** Broker URL, e.g. amqp://guest:guest@127.0.0.1:5672. */
  url: string;
  /** Name of the main queue; the delay and dead-letter queues derive from it. Default 'messenger.tasks'. */
  queue?: string;
  /** Shown in the broker's connection list. */
  connectionName?: string;
  /** Most tasks kept in memory until the broker confirms them (TASK_PENDING_MAX). Default 10 000. */
  maxPending?: number;
  /** Backoff of reconnect attempts (AMQP_RECONNECT_MIN_MS / _MAX_MS), also used after a nack. */
  reconnect?: ReconnectOptions;
  /** Transport errors, the outage, failed reconnect attempts. Default: ignore. */
  onError?: (err: Error) => void;
  /** The connection is back after `downMs`, at attempt `attempts`. Default: ignore. */
  onRecovered?: (downMs: number, attempts: number) => void;
}

const QUORUM = { 'x-queue-type': 'quorum' };

interface Consumer {
  onDelivery: (d: Delivery) => void;
  prefetch: number;
}

/** The channels of one connection. */
interface Channels {
  ctx: LinkContext;
  pub: ConfirmChannel;
  /** The consuming channel; its consumer tag until stopConsuming(). */
  sub?: { channel: Channel; tag: string | undefined };
}

export class AmqpTaskQueue implements TaskQueue {
  readonly #link: AmqpLink<Channels>;
  readonly #outbox: TaskOutbox;
  /** Set while the link is up. */
  #ch: Channels | undefined;
  readonly #queue: string;
  readonly #onError: (err: Error) => void;
  readonly #delayQueues = new Map<number, Promise<void>>();
  #consumer: Consumer | undefined;
  #closing = false;

  private constructor(options: AmqpTaskQueueOptions) {
    this.#queue = options.queue ?? 'messenger.tasks';
    this.#onError = options.onError ?? (() => {});
    const reconnect = options.reconnect ?? {};
    const timers = reconnect.timers ?? systemTimers;
    this.#outbox = new TaskOutbox({
      max: options.maxPending ?? DEFAULT_PENDING_MAX,
      minMs: reconnect.minMs ?? DEFAULT_BACKOFF.minMs,
      maxMs: reconnect.maxMs ?? DEFAULT_BACKOFF.maxMs,
      timers,
      send: (queue, content, headers, confirmed) => {
        const pub = this.#ch?.pub;
        if (!pub) return false;
        pub.sendToQueue(queue, content, { persistent: true, contentType: 'application/json', headers }, confirmed);
        return true;
      },
    });
    this.#link = new AmqpLink<Channels>({
      url: options.url,
      connectionName: options.connectionName ?? 'tasks',
      reconnect: { ...reconnect, timers },
      setup: (ctx) => this.#setup(ctx),
      onUp: (ch) => {
        this.#ch = ch;
        this.#outbox.resend();
      },
      onDown: () => {
        this.#ch = undefined;
        // Declared again on the new connection at first use; a failed declaration is not cached.
        this.#delayQueues.clear();
      },
      onError: (err) => this.#report(err),
      ...(options.onRecovered ? { onRecovered: options.onRecovered } : {}),
    });
  }

  /** Connects and declares the main and dead-letter queues. */
  static async open(options: AmqpTaskQueueOptions): Promise<AmqpTaskQueue> {
    const queue = new AmqpTaskQueue(options);
    await queue.#link.start();
    return queue;
  }

  get deadQueue(): string {
    return `${this.#queue}.dead`;
  }

  /** The delay queue for `ms`, declared on first use. */
  delayQueue(ms: number): string {
    return `${this.#queue}.retry.${ms}`;
  }

  /** Tasks waiting for the broker's confirm, and tasks refused past the bound (metrics). */
  outboxStats(): OutboxStats {
    return this.#outbox.stats;
  }

  /** Kept until the broker confirms it, across reconnects; rejects only past the bound or on close. */
  publish(task: Task): Promise<void> {
    if (this.#closing) return Promise.reject(new Error('task queue is closed'));
    return this.#outbox.add(this.#queue, Buffer.from(JSON.stringify(task)), { 'x-attempt': 1 });
  }

  /**
   * Publishes raw bytes to a queue and waits for the confirm; rejects at once while the link is
   * down and when the confirm fails (retries and dead letters: their original is redelivered
   * instead). Tests send malformed messages with it.
   */
  publishRaw(queue: string, content: Buffer, headers: Record<string, unknown>): Promise<void> {
    const pub = this.#ch?.pub;
    if (!pub) return this.#link.ping().then(() => Promise.reject(new Error('task queue is not connected')));
    return new Promise((resolve, reject) => {
      try {
        pub.sendToQueue(queue, content, { persistent: true, contentType: 'application/json', headers }, (err: unknown) =>
          err ? reject(new Error(`the broker did not confirm a task for ${queue}`, { cause: err })) : resolve(),
        );
      } catch (err) {
        reject(err);
      }
    });
  }

  async consume(onDelivery: (d: Delivery) => void, prefetch: number): Promise<void> {
    this.#consumer = { onDelivery, prefetch };
    const ch = this.#ch;
    // While the link is down the consumer starts with the next connection.
    if (!ch) return;
    try {
      const sub = await this.#startConsumer(ch.ctx, this.#consumer);
      if (this.#ch === ch) ch.sub = sub;
    } catch (err) {
      // A connection lost meanwhile starts the consumer itself when it is back.
      if (this.#ch === ch) throw err;
    }
  }

  async stopConsuming(): Promise<void> {
    this.#consumer = undefined;
    const sub = this.#ch?.sub;
    if (!sub?.tag) return;
    const tag = sub.tag;
    // The channel stays open: deliveries in flight are still acked on it.
    sub.tag = undefined;
    await sub.channel.cancel(tag).catch((err: unknown) => this.#report(asError(err)));
  }

  async listDead(limit: number): Promise<DeadLetter[]> {
    return listDeadOn(await this.#looseChannel(), this.deadQueue, limit);
  }

  async requeueDead(limit: number): Promise<number> {
    // Confirmed on the main queue before it leaves the dead-letter queue: never lost.
    return requeueDeadOn(await this.#looseChannel(), this.deadQueue, limit, (content) => this.publishRaw(this.#queue, content, { 'x-attempt': 1, 'x-requeued-at': Date.now() }));
  }

  async ping(): Promise<void> {
    if (this.#closing) throw new Error('task queue is closed');
    await this.#link.ping();
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    const lost = this.#outbox.abandon('the task queue closed before the broker confirmed this task');
    if (lost > 0) this.#report(new Error(`closing with ${lost} tasks the broker never confirmed: they are lost`));
    this.#closing = true;
    const ch = this.#ch;
    this.#ch = undefined;
    if (ch) {
      const ignore = (): void => {};
      await ch.sub?.channel.close().catch(ignore);
      await ch.pub.close().catch(ignore);
    }
    // Stops a reconnect in progress too.
    await this.#link.close();
  }

  async #setup(ctx: LinkContext): Promise<Channels> {
    const pub = ctx.watch(await ctx.conn.createConfirmChannel(), 'publish');
    await pub.assertQueue(this.#queue, { durable: true, arguments: QUORUM });
    await pub.assertQueue(this.deadQueue, { durable: true, arguments: QUORUM });
    const ch: Channels = { ctx, pub };
    if (this.#consumer) ch.sub = await this.#startConsumer(ctx, this.#consumer);
    return ch;
  }

  async #startConsumer(ctx: LinkContext, consumer: Consumer): Promise<{ channel: Channel; tag: string | undefined }> {
    const sub = ctx.watch(await ctx.conn.createChannel(), 'consume');
    await sub.prefetch(consumer.prefetch);
    const { consumerTag } = await sub.consume(
      this.#queue,
      (msg: ConsumeMessage | null) => {
        if (msg === null) return this.#link.fail(ctx, new Error('the broker cancelled the task consumer'));
        consumer.onDelivery(this.#delivery(ctx, sub, msg));
      },
      { noAck: false },
    );
    return { channel: sub, tag: consumerTag };
  }

  /** A channel outside the link's watch: its errors (a missing queue) only fail its own operation. */
  async #looseChannel(): Promise<Channel> {
    const conn = this.#ch?.ctx.conn;
    if (!conn) {
      await this.#link.ping();
      throw new Error('task queue is not connected');
    }
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    return ch;
  }

  #ensureDelayQueue(ms: number): Promise<void> {
    let declared = this.#delayQueues.get(ms);
    if (!declared) {
      const pub = this.#ch?.pub;
      if (!pub) return Promise.reject(new Error('task queue is not connected'));
      declared = pub
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

  #delivery(ctx: LinkContext, sub: Channel, msg: ConsumeMessage): Delivery {
    const headers = msg.properties.headers ?? {};
    const attempt = Math.max(1, Number(headers['x-attempt']) || 1);
    let settled = false;
    // Delivery tags belong to their channel: once its connection is gone the broker redelivers the
    // message, and a copy published now (a retry) would be one task twice.
    const live = (): void => {
      if (this.#ch?.ctx !== ctx) throw new Error('the connection of this delivery is gone; the broker redelivers it');
    };
    const once = (): void => {
      if (settled) throw new Error('delivery already settled');
      settled = true;
      live();
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
        live();
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

  #report(err: Error): void {
    if (this.#closing && !this.#link.up) return;
    try {
      this.#onError(err);
    } catch {
      // The error callback must not break the queue.
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
