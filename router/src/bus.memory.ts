/**
 * The in-process bus of the embedded default: one instance is one node, and publishing hands the
 * event to this node's own subscriber. Delivery is asynchronous, like the broker's, so code that
 * works here does not rely on a handler running inside publish().
 */
import type { Bus, BusEvent } from './bus.port.ts';

export interface MemoryBusOptions {
  /** Called when the subscriber throws; the event is dropped and delivery goes on. Default: ignore. */
  onError?: (err: unknown) => void;
}

type Handler = (event: BusEvent) => void;

export class MemoryBus implements Bus {
  readonly #onError: (err: unknown) => void;
  #queue: BusEvent[] = [];
  #handler: Handler | undefined;
  #scheduled = false;
  #drained: Array<() => void> = [];
  #closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.#onError = options.onError ?? (() => {});
  }

  publish(event: BusEvent): void {
    if (this.#closed) return;
    this.#queue.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate rather than a microtask: a handler that publishes in turn cannot starve I/O.
    setImmediate(this.#drain);
  }

  subscribe(handler: Handler): void {
    this.#handler = handler;
  }

  flush(): Promise<void> {
    if (!this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('bus is closed');
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#handler = undefined;
  }

  readonly #drain = (): void => {
    this.#scheduled = false;
    // Swap first: events published by a handler go to the next round, after this one, in order.
    const batch = this.#queue;
    this.#queue = [];
    for (const event of batch) {
      try {
        this.#handler?.(event);
      } catch (err) {
        this.#onError(err);
      }
    }
    if (this.#scheduled) return;
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve();
  };
}
