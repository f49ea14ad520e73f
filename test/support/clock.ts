/**
 * A Scheduler whose time moves only when a test says so. Timers fire inside advance(), in the
 * order they fall due, each seeing now() at its own due time; what they start asynchronously the
 * test then waits for as a condition (wait.ts).
 */
import type { Scheduler, Timer } from '../../db/clock.ts';

interface Pending {
  at: number;
  /** Set for a repeating timer. */
  every?: number;
  fn: () => void;
  /** Breaks ties between timers due at the same time: first scheduled, first run. */
  order: number;
  cancelled: boolean;
}

export class ManualScheduler implements Scheduler {
  #now: number;
  #order = 0;
  #timers: Pending[] = [];

  /** Starts at `start` (epoch ms); by default the real time at creation, so timestamps look real. */
  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    return this.#add({ at: this.#now + Math.max(0, ms), fn });
  }

  every(ms: number, fn: () => void): Timer {
    if (!(ms > 0)) throw new RangeError(`every() needs a positive interval, got ${ms}`);
    return this.#add({ at: this.#now + ms, every: ms, fn });
  }

  /** Timers not yet run nor cancelled (a repeating one counts once). */
  get pending(): number {
    return this.#timers.filter((p) => !p.cancelled).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance() needs a non-negative step, got ${ms}`);
    const until = this.#now + ms;
    for (let next = this.#due(until); next; next = this.#due(until)) {
      this.#now = next.at;
      if (next.every === undefined) next.cancelled = true;
      else next.at += next.every;
      next.fn();
    }
    this.#now = until;
  }

  #add(p: Omit<Pending, 'order' | 'cancelled'>): Timer {
    const pending: Pending = { ...p, order: this.#order++, cancelled: false };
    this.#timers.push(pending);
    return { cancel: () => void (pending.cancelled = true) };
  }

  #due(until: number): Pending | undefined {
    this.#timers = this.#timers.filter((p) => !p.cancelled);
    let first: Pending | undefined;
    for (const p of this.#timers) if (p.at <= until && (!first || p.at < first.at || (p.at === first.at && p.order < first.order))) first = p;
    return first;
  }
}
