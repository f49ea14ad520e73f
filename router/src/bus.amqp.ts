/**
 * The bus over RabbitMQ, for the full stack: a durable fanout exchange, and per node an
 * exclusive, auto-delete queue bound to it. Events published in one turn of the event loop travel
 * as one AMQP message (a JSON array; batches at least `batchSpacingMs` apart), confirms are
 * pipelined, and a node delivers its own events in-process and skips their copies coming back from
 * the broker.
 *
 * No reconnection: a lost connection fails ping() (readiness) and the node is replaced; its
 * clients reconnect elsewhere and resync from history, which is the repair path anyway.
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';

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
  /** Transport errors, nacks and dropped malformed messages or events. Default: ignore. */
  onError?: (err: Error) => void;
}

type Handler = (event: BusEvent) => void;

export class AmqpBus implements Bus {
  readonly #conn: ChannelModel;
  readonly #pub: ConfirmChannel;
  readonly #sub: Channel;
  readonly #nodeId: string;
  readonly #exchange: string;
  readonly #maxBatch: number;
  readonly #batchSpacingMs: number;
  /** performance.now() of the last batch handed to the channel. */
  #lastBatchAt = Number.NEGATIVE_INFINITY;
  readonly #onError: (err: Error) => void;
  #onConfirm: (seconds: number) => void = () => {};
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
  #broken: Error | undefined;
  #stopping = false;
  #closed: Promise<void> | undefined;

  private constructor(conn: ChannelModel, pub: ConfirmChannel, sub: Channel, options: AmqpBusOptions) {
    this.#conn = conn;
    this.#pub = pub;
    this.#sub = sub;
    this.#nodeId = options.nodeId;
    this.#exchange = options.exchange ?? 'messenger.live';
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#batchSpacingMs = options.batchSpacingMs ?? 2;
    this.#onError = options.onError ?? (() => {});
    this.#local = new LocalDelivery((err) => this.#report(asError(err)));
    // An 'error' without a listener would throw and take the process down.
    conn.on('error', (err: Error) => this.#report(err));
    conn.on('close', () => this.#lost('AMQP connection closed'));
    conn.on('blocked', (reason: string) => this.#report(new Error(`broker blocks publishing: ${reason}`)));
    for (const [name, channel] of [['publish', pub], ['consume', sub]] as const) {
      channel.on('error', (err: Error) => this.#report(err));
      channel.on('close', () => this.#lost(`AMQP ${name} channel closed`));
    }
  }

  /** Connects, declares the topology and starts consuming; resolves once this node receives events. */
  static async open(options: AmqpBusOptions): Promise<AmqpBus> {
    // Without noDelay each confirm waits ~40 ms on Nagle + delayed ACK.
    const conn = await amqp.connect(options.url, { noDelay: true, clientProperties: { connection_name: `router ${options.nodeId}` } });
    // Until the bus exists nothing listens for 'error' on the connection; open() reports by rejecting.
    const ignore = (): void => {};
    conn.on('error', ignore);
    let bus: AmqpBus | undefined;
    try {
      bus = new AmqpBus(conn, await conn.createConfirmChannel(), await conn.createChannel(), options);
      await bus.#consume(options.maxQueued ?? 10_000);
      return bus;
    } catch (err) {
      if (bus) bus.#stopping = true;
      await conn.close().catch(ignore);
      throw err;
    } finally {
      conn.off('error', ignore);
    }
  }

  onConfirm(observer: (seconds: number) => void): void {
    this.#onConfirm = observer;
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

  async ping(): Promise<void> {
    if (this.#broken) throw this.#broken;
    if (this.#stopping) throw new Error('bus is closed');
  }

  close(): Promise<void> {
    this.#stopping = true;
    return (this.#closed ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    await this.flush();
    this.#handler = undefined;
    this.#local.subscribe(undefined);
    // Each may already be closed (the broker went away); close is still clean then.
    const ignore = (): void => {};
    if (!this.#broken) {
      await this.#pub.close().catch(ignore);
      await this.#sub.close().catch(ignore);
    }
    await this.#conn.close().catch(ignore);
  }

  async #consume(maxQueued: number): Promise<void> {
    await this.#sub.assertExchange(this.#exchange, 'fanout', { durable: true });
    // Server-named and exclusive: the queue dies with this connection, so a restarted node never
    // inherits a backlog, and live events are best effort anyway (clients resync gaps).
    // A slow node sheds its oldest events rather than growing the broker's memory.
    const { queue } = await this.#sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false, maxLength: maxQueued, overflow: 'drop-head' });
    await this.#sub.bindQueue(queue, this.#exchange, '');
    // noAck: the queue is exclusive, so an unacked message could never be redelivered to anyone
    // else; acks would cost a frame per message and buy no safety. TCP flow control still
    // throttles the broker when this node falls behind, and maxLength bounds the backlog.
    await this.#sub.consume(queue, this.#receive, { noAck: true });
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
      if (this.#broken) {
        this.#report(new Error(`dropped ${this.#outgoing.length} events: ${this.#broken.message}`));
        this.#outgoing = [];
        break;
      }
      const content = encode(this.#outgoing.splice(0, this.#maxBatch), this.#onError);
      if (!content) continue;
      const settle = (): void => {
        if (this.#unconfirmed.delete(settle)) this.#settled();
      };
      this.#unconfirmed.add(settle);
      const sentAt = performance.now();
      let accepted = true;
      try {
        // No await: confirms are pipelined, flush() waits for the last one.
        accepted = this.#pub.publish(
          this.#exchange,
          '',
          content,
          { contentType: 'application/json', deliveryMode: 1, headers: { origin: this.#nodeId } },
          (err: unknown) => {
            if (err) this.#report(new Error('the broker did not confirm a batch of events', { cause: err }));
            else this.#onConfirm((performance.now() - sentAt) / 1000);
            settle();
          },
        );
      } catch (err) {
        this.#report(asError(err));
        settle();
      }
      if (!accepted) {
        // The channel buffered this one but wants no more: keep queueing until it drains.
        this.#waitingForDrain = true;
        this.#pub.once('drain', () => {
          this.#waitingForDrain = false;
          this.#send();
        });
      }
    }
    this.#settled();
  }

  readonly #receive = (msg: ConsumeMessage | null): void => {
    if (msg === null) return this.#lost('the broker cancelled this node\'s consumer');
    // Already delivered in-process when it was published.
    if (msg.properties.headers?.origin === this.#nodeId) return;
    this.#deliver(decode(msg.content, this.#onError));
  };

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

  /** A channel or the connection is gone: fail readiness and stop waiting on anything it owed us. */
  #lost(why: string): void {
    if (this.#broken) return;
    this.#broken = new Error(why);
    if (!this.#stopping) this.#report(this.#broken);
    // 'drain' will never come, and amqplib settles confirms of a closed channel; settle any it did not.
    this.#waitingForDrain = false;
    for (const settle of [...this.#unconfirmed]) settle();
    this.#send();
  }

  #report(err: Error): void {
    if (this.#stopping && this.#broken) return;
    try {
      this.#onError(err);
    } catch {
      // The error callback must not break the bus either.
    }
  }
}

/** One batch as a JSON array; an event that cannot be serialised is reported and left out. */
function encode(events: BusEvent[], onError: (err: Error) => void): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(events));
  } catch {
    const parts: string[] = [];
    for (const event of events) {
      try {
        parts.push(JSON.stringify(event));
      } catch (err) {
        onError(new Error(`dropped an event that cannot be serialised (${event.kind})`, { cause: err }));
      }
    }
    return parts.length > 0 ? Buffer.from(`[${parts.join(',')}]`) : undefined;
  }
}

/** The events of one incoming message; anything malformed is reported and dropped, never thrown. */
function decode(content: Buffer, onError: (err: Error) => void): BusEvent[] {
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch (err) {
    onError(new Error(`dropped a bus message that is not JSON (${content.length} bytes)`, { cause: err }));
    return [];
  }
  if (!Array.isArray(value)) {
    onError(new Error('dropped a bus message that is not a JSON array'));
    return [];
  }
  const events = value.filter(isBusEvent);
  if (events.length < value.length) onError(new Error(`dropped ${value.length - events.length} malformed bus events`));
  return events;
}

/** A peer is our own code at the same version, so field types are all we check. */
const MESSAGE_FIELDS = Object.entries({ id: 'string', room: 'string', seq: 'number', sender: 'number', body: 'string', clientMsgId: 'string', ts: 'number' });

function hasFields(x: unknown, fields: Array<[string, string]>): boolean {
  return typeof x === 'object' && x !== null && fields.every(([key, type]) => typeof (x as Record<string, unknown>)[key] === type);
}

function isBusEvent(x: unknown): x is BusEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as Record<string, unknown>;
  const addressed =
    typeof e.room === 'string' && Array.isArray(e.members) && e.members.every((m) => typeof m === 'number') && (e.origin === undefined || typeof e.origin === 'string');
  switch (e.kind) {
    case 'message':
      return addressed && hasFields(e.message, MESSAGE_FIELDS);
    case 'receipt':
      return addressed && typeof e.user === 'number' && (e.receipt === 'delivered' || e.receipt === 'read') && typeof e.seq === 'number';
    case 'typing':
      return addressed && typeof e.user === 'number' && typeof e.active === 'boolean';
    case 'presence':
      return addressed && typeof e.user === 'number' && typeof e.online === 'boolean' && (e.lastSeen === undefined || typeof e.lastSeen === 'number');
    case 'session.ended':
      return typeof e.user === 'number' && Array.isArray(e.sessions) && e.sessions.every((s) => typeof s === 'string');
    default:
      return false;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
