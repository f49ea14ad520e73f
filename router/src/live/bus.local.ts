/**
 * Hands a node's own events to its subscriber, in publish order, shortly after publish() returns:
 * the in-process bus is only this, and the RabbitMQ bus uses it for its own events so they skip the
 * broker round trip.
 *
 * Delivery runs on a microtask, so the live frames of a stored message go out in the same turn of
 * the event loop as its ack (a setImmediate would cost a whole turn, which under load is several
 * milliseconds), while no handler ever runs inside publish(). Events published by a handler wait
 * for the next turn (setImmediate), so a handler that publishes in turn cannot starve I/O.
 */
import type { BusEvent } from './bus.port.ts';

type Handler = (event: BusEvent) => void;

export class LocalDelivery {
  readonly #onError: (err: unknown) => void;
  #queue: BusEvent[] = [];
  #handler: Handler | undefined;
  #scheduled = false;
  #delivering = false;
  #idleWaiters: Array<() => void> = [];

  /** `onError` is told what a throwing handler threw; delivery goes on with the next event. */
  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  subscribe(handler: Handler | undefined): void {
    this.#handler = handler;
  }

  push(event: BusEvent): void {
    this.#queue.push(event);
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#delivering) setImmediate(this.#deliver);
    else queueMicrotask(this.#deliver);
  }

  /** True when nothing waits to be delivered. */
  get idle(): boolean {
    return !this.#scheduled;
  }

  /** Resolves once everything pushed so far was delivered. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  readonly #deliver = (): void => {
    this.#scheduled = false;
    // Swap first: events pushed by a handler go to the next round, after this one, in order.
    const batch = this.#queue;
    this.#queue = [];
    this.#delivering = true;
    try {
      for (const event of batch) {
        try {
          this.#handler?.(event);
        } catch (err) {
          this.#onError(err);
        }
      }
    } finally {
      this.#delivering = false;
    }
    if (this.#scheduled) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  };
}
