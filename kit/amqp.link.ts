/**
 * A RabbitMQ connection that comes back by itself, shared by the router's bus (bus.amqp.ts) and
 * the task queue (queue.amqp.ts). The owner gives a `setup` that opens its channels and
 * declares its topology on a fresh connection. When that connection, or a channel the owner
 * watches, closes, the link tells the owner (`onDown`), closes what is left of the connection and
 * connects again after a jittered, capped exponential backoff, running `setup` again (topology
 * declared again, consumers started again) until it succeeds or close() is called.
 *
 * A channel the broker closes (404 NOT_FOUND: an exchange or queue deleted under us; 406
 * PRECONDITION_FAILED: declared with other arguments, or an unknown delivery tag) takes the same
 * path as a lost connection: the whole connection is replaced and everything is declared again.
 * One recovery path, and never a connection with half its channels; a lasting 406 fails `setup`
 * on every attempt and is reported each time, at most once per `maxMs`.
 *
 * The first connection (start()) is not retried: a node that cannot reach the broker when it
 * starts fails to start, as before, and says why.
 */
import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';

/** The timer functions the link uses; tests pass a scheduler they fire by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers. */
export const systemTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** Reconnect delay bounds when none are given, ms (AMQP_RECONNECT_MIN_MS / _MAX_MS's defaults). */
export const DEFAULT_BACKOFF = { minMs: 100, maxMs: 10_000 } as const;

export interface ReconnectOptions {
  /** Ceiling of the first reconnect delay, ms; doubles per failed attempt. Default 100. */
  minMs?: number;
  /** Ceiling of any reconnect delay, ms. Default 10 000. */
  maxMs?: number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Default: the global setTimeout / clearTimeout. */
  timers?: Timers;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): a ceiling of minMs · 2^attempt,
 * capped at maxMs, and a random point in its upper half ("equal jitter"): never a zero wait, and
 * nodes that lost the broker together do not all come back in the same millisecond.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 40));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** What `setup` gets: the fresh connection, and `watch` for each channel it opens. */
export interface LinkContext {
  conn: ChannelModel;
  /** Reports the channel's errors and takes the link down when it closes; returns it. */
  watch<C extends Channel>(channel: C, name: string): C;
}

export interface AmqpLinkOptions<T> {
  /** Broker URL, e.g. amqp://guest:guest@127.0.0.1:5672. */
  url: string;
  /** Shown in the broker's connection list. */
  connectionName: string;
  /** Opens the owner's channels and declares its topology; a throw fails this attempt. */
  setup(ctx: LinkContext): Promise<T>;
  /** The link is up: what `setup` returned, and whether this ends an outage (false at start). */
  onUp(value: T, reconnected: boolean): void;
  /** The link went down (once per outage, before reconnecting): the owner forgets its channels. */
  onDown(why: Error): void;
  reconnect?: ReconnectOptions;
  /** Transport errors, the loss of the link and each failed attempt to bring it back. */
  onError(err: Error): void;
  /** The link is back after an outage of `downMs`, at attempt `attempts` (logs). */
  onRecovered?(downMs: number, attempts: number): void;
}

/** Connection establishment (TCP and the AMQP handshake) gives up after this long, ms. */
const CONNECT_TIMEOUT_MS = 10_000;
const ignore = (): void => {};
/** Connections amqplib reported closed. */
const connClosed = new WeakSet<ChannelModel>();

export class AmqpLink<T> {
  readonly #o: AmqpLinkOptions<T>;
  readonly #timers: Timers;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  /** Incremented per connection; events of an older connection are ignored. */
  #generation = 0;
  #ctx: LinkContext | undefined;
  /** Set while up; the reason otherwise. */
  #down: Error | undefined = new Error('not connected yet');
  /** Why the connection being set up was lost while `setup` ran. */
  #lostInSetup: Error | undefined;
  #attempt = 0;
  #timer: unknown;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #downSince = 0;
  /** Outages this link recovered from. */
  reconnects = 0;

  constructor(options: AmqpLinkOptions<T>) {
    this.#o = options;
    const r = options.reconnect ?? {};
    this.#timers = r.timers ?? systemTimers;
    this.#minMs = r.minMs ?? DEFAULT_BACKOFF.minMs;
    this.#maxMs = r.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.#random = r.random ?? Math.random;
  }

  /** The first connection; rejects (and leaves nothing open) when it fails. */
  async start(): Promise<void> {
    this.#connecting = this.#connect();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  /** The current connection while up; undefined while down. */
  get current(): LinkContext | undefined {
    return this.#down ? undefined : this.#ctx;
  }

  get up(): boolean {
    return this.#down === undefined;
  }

  /** Resolves while up; rejects with the reason otherwise (readiness). */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error(`${this.#o.connectionName}: closed`);
    if (this.#down) throw this.#down;
  }

  /** The owner found the connection unusable (its consumer was cancelled): replace it. */
  fail(ctx: LinkContext, why: Error): void {
    if (ctx === this.#ctx) this.#lost(this.#generation, why);
  }

  /** Stops reconnecting and closes the connection; a reconnect in progress is awaited and undone. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#down ??= new Error(`${this.#o.connectionName}: closed`);
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#connecting?.catch(ignore);
    const conn = this.#ctx?.conn;
    this.#ctx = undefined;
    await conn?.close().catch(ignore);
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    this.#lostInSetup = undefined;
    // Without noDelay each confirm waits ~40 ms on Nagle + delayed ACK.
    const conn = await amqp.connect(this.#o.url, { noDelay: true, timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: this.#o.connectionName } });
    // An 'error' without a listener would throw and take the process down.
    conn.on('error', (err: Error) => {
      if (generation === this.#generation) this.#report(err);
    });
    conn.on('close', (err?: Error) => {
      connClosed.add(conn);
      this.#lost(generation, new Error(`AMQP connection closed${err ? ` (${err.message})` : ''}`));
    });
    conn.on('blocked', (reason: string) => this.#report(new Error(`broker blocks publishing: ${reason}`)));
    const ctx: LinkContext = {
      conn,
      watch: (channel, name) => {
        channel.on('error', (err: Error) => {
          if (generation === this.#generation) this.#report(err);
        });
        channel.on('close', () => this.#lost(generation, new Error(`AMQP ${name} channel closed`)));
        return channel;
      },
    };
    this.#ctx = ctx;
    let value: T;
    try {
      if (this.#closed) throw new Error(`${this.#o.connectionName}: closed`);
      value = await this.#o.setup(ctx);
      if (this.#lostInSetup) throw this.#lostInSetup;
      if (this.#closed) throw new Error(`${this.#o.connectionName}: closed`);
    } catch (err) {
      this.#ctx = undefined;
      await conn.close().catch(ignore);
      throw err;
    }
    const reconnected = this.#generation > 1;
    this.#down = undefined;
    this.#attempt = 0;
    this.#o.onUp(value, reconnected);
  }

  /** The connection of `generation`, or one of its channels, is gone. */
  #lost(generation: number, why: Error): void {
    if (generation !== this.#generation || this.#closed) return;
    if (this.#down) {
      // Still in setup: the attempt fails when setup returns. Already down: nothing more to do.
      this.#lostInSetup ??= why;
      return;
    }
    this.#down = why;
    this.#downSince = performance.now();
    this.#report(new Error(`${this.#o.connectionName}: ${why.message}; reconnecting`, { cause: why }));
    const conn = this.#ctx?.conn;
    this.#ctx = undefined;
    // A channel closed by the broker leaves the connection open: close it, without waiting. Not
    // while amqplib is still tearing a dead connection down (its channels close first): a close
    // sent then would wait for an answer that never comes.
    if (conn) queueMicrotask(() => {
      if (!connClosed.has(conn)) void conn.close().catch(ignore);
    });
    try {
      this.#o.onDown(why);
    } finally {
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const delay = backoffDelay(this.#attempt++, this.#minMs, this.#maxMs, this.#random);
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      const attempts = this.#attempt;
      const connecting = this.#connect().then(
        () => {
          this.reconnects++;
          this.#o.onRecovered?.(Math.round(performance.now() - this.#downSince), attempts);
        },
        (err: unknown) => {
          if (this.#closed) return;
          this.#report(new Error(`${this.#o.connectionName}: reconnect attempt ${attempts} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
          this.#schedule();
        },
      );
      this.#connecting = connecting;
      void connecting.finally(() => {
        if (this.#connecting === connecting) this.#connecting = undefined;
      });
    }, delay);
  }

  #report(err: Error): void {
    try {
      this.#o.onError(err);
    } catch {
      // The error callback must not break the link.
    }
  }
}
