/**
 * The in-process bus of the embedded default: one instance is one node, and publishing hands the
 * event to this node's own subscriber. Delivery is asynchronous, like the broker's, so code that
 * works here does not rely on a handler running inside publish().
 */
import { LocalDelivery } from './bus.local.ts';
import type { Bus, BusEvent } from './bus.port.ts';

export interface MemoryBusOptions {
  /** Called when the subscriber throws; the event is dropped and delivery goes on. Default: ignore. */
  onError?: (err: unknown) => void;
}

export class MemoryBus implements Bus {
  readonly #local: LocalDelivery;
  #closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.#local = new LocalDelivery(options.onError ?? (() => {}));
  }

  publish(event: BusEvent): void {
    if (!this.#closed) this.#local.push(event);
  }

  subscribe(handler: (event: BusEvent) => void): void {
    this.#local.subscribe(handler);
  }

  flush(): Promise<void> {
    return this.#local.whenIdle();
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('bus is closed');
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#local.subscribe(undefined);
  }
}
