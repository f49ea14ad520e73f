/**
 * The bus over RabbitMQ, for the full stack: a durable fanout exchange, and per node an
 * exclusive, auto-delete queue bound to it. Events published in one turn of the event loop travel
 * as one AMQP message (a JSON array; batches at least `batchSpacingMs` apart), confirms are
 * pipelined, and a node delivers its own events in-process and skips their copies coming back from
 * the broker.
 *
 * The connection comes back by itself (kit/amqp.link.ts): while it is down ping() fails
 * (readiness), the node's own events still reach its own sockets, and events for the other nodes
 * are dropped and counted (onDrop): live delivery is best effort and clients resync from history.
 * On reconnect the exchange, a fresh queue and its binding are declared again and consuming resumes.
 */
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';

import { AmqpLink, type LinkContext, type ReconnectOptions } from '../../../kit/amqp.link.ts';
import { decode, encode } from './bus.codec.ts';
import { LocalDelivery } from './bus.local.ts';
import type { Bus, BusEvent } from './bus.port.ts';

export interface AmqpBusOptions {
  /** Broker URL, e.g. amqp://guest:guest@127.0.0.1:5672. */
  url: string;
  /** This node's id, unique among running nodes; sent as the `origin` header of every message. */
  nodeId: string;
  /** The fanout exchange all nodes share. Default 'messenger.live'. */
  exchange?: string;
  /** Most events in one AMQP message; a bigger tick is split. Default 1000. */
  maxBatch?: number;
  /**
   * Least time between two batches, ms. Default 2. Under heavy load a turn of the event loop is
   * longer than this and each turn's events go as one batch; under light load turns are short, and
   * without the spacing the broker would take one small message per turn, costing it (and this
   * machine) more than the events themselves. Local delivery never waits for it.
   */
  batchSpacingMs?: number;
  /** Most messages this node's queue holds before the broker drops the oldest. Default 10 000. */
  maxQueued?: number;
  /** Backoff of reconnect attempts (AMQP_RECONNECT_MIN_MS / _MAX_MS). */
  reconnect?: ReconnectOptions;
  /** Transport errors, nacks, the outage and dropped malformed messages or events. Default: ignore. */
  onError?: (err: Error) => void;
  /** The connection is back after `downMs`, at attempt `attempts`. Default: ignore. */
  onRecovered?: (downMs: number, attempts: number) => void;
}

type Handler = (event: BusEvent) => void;

/** The channels of one connection. */
interface Channels {
  ctx: LinkContext;
  pub: ConfirmChannel;
  sub: Channel;
}

export class AmqpBus implements Bus {
  readonly #link: AmqpLink<Channels>;
  /** Set while the link is up. */
  #ch: Channels | undefined;
  readonly #nodeId: string;
  readonly #exchange: string;
  readonly #maxBatch: number;
  readonly #maxQueued: number;
  readonly #batchSpacingMs: number;
  /** performance.now() of the last batch handed to the channel. */
  #lastBatchAt = Number.NEGATIVE_INFINITY;
  readonly #onError: (err: Error) => void;
  #onConfirm: (seconds: number) => void = () => {};
  #onDrop: (events: number) => void = () => {};
  /** Events dropped since the link went down, for the one report when it is back. */
  #droppedInOutage = 0;
  #handler: Handler | undefined;
  /** This node's own events, for its own subscriber without the broker round trip. */
  readonly #local: LocalDelivery;
  /** Published since the last batch: moved to #outgoing by the next #tick, as one AMQP message. */
  #pending: BusEvent[] = [];
  #scheduled = false;
  /** Waiting for the channel to take them (backpressure). */
  #outgoing: BusEvent[] = [];
  #waitingForDrain = false;
  /** One settle function per message the broker has not confirmed yet. */
  readonly #unconfirmed = new Set<() => void>();
  #flushed: Array<() => void> = [];
  #stopping = false;
  #closed: Promise<void> | undefined;

  private constructor(options: AmqpBusOptions) {
    this.#nodeId = options.nodeId;
    this.#exchange = options.exchange ?? 'messenger.live';
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#batchSpacingMs = options.batchSpacingMs ?? 2;
    this.#onError = options.onError ?? (() => {});
    this.#local = new LocalDelivery((err) => this.#report(asError(err)));
    this.#link = new AmqpLink<Channels>({
      url: options.url,
      connectionName: `router ${options.nodeId}`,
      ...(options.reconnect ? { reconnect: options.reconnect } : {}),
      setup: (ctx) => this.#setup(ctx),
      onUp: (ch, reconnected) => {
        this.#ch = ch;
        if (reconnected && this.#droppedInOutage > 0) this.#report(new Error(`dropped ${this.#droppedInOutage} live events while the broker was unreachable (clients resync them from history)`));
        this.#droppedInOutage = 0;
      },
      onDown: () => this.#lost(),
      onError: (err) => this.#report(err),
      ...(options.onRecovered ? { onRecovered: options.onRecovered } : {}),
    });
  }

  /** Connects, declares the topology and starts consuming; resolves once this node receives events. */
  static async open(options: AmqpBusOptions): Promise<AmqpBus> {
    const bus = new AmqpBus(options);
    try {
      await bus.#link.start();
    } catch (err) {
      bus.#stopping = true;
      throw err;
    }
    return bus;
  }

  onConfirm(observer: (seconds: number) => void): void {
    this.#onConfirm = observer;
  }

  onDrop(observer: (events: number) => void): void {
    this.#onDrop = observer;
  }

  publish(event: BusEvent): void {
    if (this.#stopping) return;
    this.#local.push(event);
    this.#pending.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = this.#lastBatchAt + this.#batchSpacingMs - performance.now();
    if (wait > 0) setTimeout(this.#tick, wait);
    else setImmediate(this.#tick);
  }

  subscribe(handler: Handler): void {
    this.#handler = handler;
    this.#local.subscribe(handler);
  }

  async flush(): Promise<void> {
    await this.#local.whenIdle();
    if (this.#idle()) return;
    return new Promise((resolve) => this.#flushed.push(resolve));
  }

  ping(): Promise<void> {
    if (this.#stopping) return Promise.reject(new Error('bus is closed'));
    return this.#link.ping();
  }

  close(): Promise<void> {
    this.#stopping = true;
    return (this.#closed ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    await this.flush();
    this.#handler = undefined;
    this.#local.subscribe(undefined);
    this.#ch = undefined;
    // Stops a reconnect in progress too; closing the connection closes its channels.
    await this.#link.close();
  }

  async #setup(ctx: LinkContext): Promise<Channels> {
    const pub = ctx.watch(await ctx.conn.createConfirmChannel(), 'publish');
    const sub = ctx.watch(await ctx.conn.createChannel(), 'consume');
    await sub.assertExchange(this.#exchange, 'fanout', { durable: true });
    // Server-named and exclusive: the queue dies with this connection, so a restarted node never
    // inherits a backlog, and live events are best effort anyway (clients resync gaps).
    // A slow node sheds its oldest events rather than growing the broker's memory.
    const { queue } = await sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false, maxLength: this.#maxQueued, overflow: 'drop-head' });
    await sub.bindQueue(queue, this.#exchange, '');
    // noAck: the queue is exclusive, so an unacked message could never be redelivered to anyone
    // else; acks would cost a frame per message and buy no safety. TCP flow control still
    // throttles the broker when this node falls behind, and maxLength bounds the backlog.
    await sub.consume(
      queue,
      (msg: ConsumeMessage | null) => {
        if (msg === null) return this.#link.fail(ctx, new Error("the broker cancelled this node's consumer"));
        this.#receive(msg);
      },
      { noAck: true },
    );
    return { ctx, pub, sub };
  }

  readonly #tick = (): void => {
    this.#scheduled = false;
    const events = this.#pending;
    this.#pending = [];
    this.#lastBatchAt = performance.now();
    if (this.#outgoing.length === 0) this.#outgoing = events;
    else for (const event of events) this.#outgoing.push(event);
    this.#send();
  };

  #send(): void {
    while (this.#outgoing.length > 0 && !this.#waitingForDrain) {
      const ch = this.#ch;
      if (!ch) {
        this.#dropped(this.#outgoing.length);
        this.#outgoing = [];
        break;
      }
      const batch = this.#outgoing.splice(0, this.#maxBatch);
      const events = batch.length;
      const content = encode(batch, this.#onError);
      if (!content) continue;
      const settle = (): void => {
        if (this.#unconfirmed.delete(settle)) this.#settled();
      };
      this.#unconfirmed.add(settle);
      const sentAt = performance.now();
      let accepted = true;
      try {
        // No await: confirms are pipelined, flush() waits for the last one.
        accepted = ch.pub.publish(
          this.#exchange,
          '',
          content,
          { contentType: 'application/json', deliveryMode: 1, headers: { origin: this.#nodeId } },
          (err: unknown) => {
            if (err) {
              // Nacked, or the channel closed first: the other nodes may or may not have it.
              this.#report(new Error(`the broker did not confirm a batch of ${events} events`, { cause: err }));
              this.#onDrop(events);
            } else this.#onConfirm((performance.now() - sentAt) / 1000);
            settle();
          },
        );
      } catch (err) {
        this.#report(asError(err));
        this.#onDrop(events);
        settle();
      }
      if (!accepted) {
        // The channel buffered this one but wants no more: keep queueing until it drains.
        this.#waitingForDrain = true;
        ch.pub.once('drain', () => {
          if (this.#ch !== ch) return;
          this.#waitingForDrain = false;
          this.#send();
        });
      }
    }
    this.#settled();
  }

  #dropped(events: number): void {
    if (this.#droppedInOutage === 0) this.#report(new Error('the broker is unreachable: live events for other nodes are dropped until it is back'));
    this.#droppedInOutage += events;
    this.#onDrop(events);
  }

  #receive(msg: ConsumeMessage): void {
    // Already delivered in-process when it was published.
    if (msg.properties.headers?.origin === this.#nodeId) return;
    this.#deliver(decode(msg.content, this.#onError));
  }

  #deliver(events: BusEvent[]): void {
    for (const event of events) {
      if (!this.#handler) return;
      try {
        this.#handler(event);
      } catch (err) {
        this.#report(asError(err));
      }
    }
  }

  #idle(): boolean {
    return !this.#scheduled && this.#outgoing.length === 0 && this.#unconfirmed.size === 0;
  }

  #settled(): void {
    if (!this.#idle()) return;
    const waiters = this.#flushed;
    this.#flushed = [];
    for (const resolve of waiters) resolve();
  }

  /** The link went down: stop waiting on anything the old channels owed us; drop what is queued. */
  #lost(): void {
    this.#ch = undefined;
    // 'drain' will never come, and amqplib settles confirms of a closed channel; settle any it did not.
    this.#waitingForDrain = false;
    for (const settle of [...this.#unconfirmed]) settle();
    this.#send();
  }

  #report(err: Error): void {
    if (this.#stopping && !this.#link.up) return;
    try {
      this.#onError(err);
    } catch {
      // The error callback must not break the bus.
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
