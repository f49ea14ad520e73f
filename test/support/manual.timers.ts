/**
 * Timers a test fires by hand (the Timers of kit/amqp.link.ts): what is due fires when the
 * test says so, never because the machine was fast or slow.
 */
import type { Timers } from '../../kit/amqp.link.ts';

export class ManualTimers implements Timers {
  readonly #due = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.#next++;
    this.#due.set(handle, { fn, ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#due.size;
  }

  /** The delays of the pending timers, ms, in the order they were set. */
  get delays(): number[] {
    return [...this.#due.values()].map((d) => d.ms);
  }

  /** Fires every pending timer now (not those they set); returns how many fired. */
  fireAll(): number {
    const due = [...this.#due.values()];
    this.#due.clear();
    for (const { fn } of due) fn();
    return due.length;
  }
}
