/**
 * Time as a dependency. Whatever expires or fires on a timer takes a Clock or a Scheduler, so a
 * test can move time itself instead of sleeping and hoping the machine keeps up
 * (test/support/clock.ts has the manual one). Production code passes nothing and gets these.
 */

/** Reads the time. */
export interface Clock {
  /** Epoch milliseconds, like Date.now(). */
  now(): number;
}

/** A pending timer; cancelling one that already ran or was cancelled does nothing. */
export interface Timer {
  cancel(): void;
}

/** Reads the time and runs callbacks later by the same time. */
export interface Scheduler extends Clock {
  /**
   * Runs `fn` once, `ms` from now. By default the timer does not keep the process alive;
   * `keepAlive` makes it do so (a pending write that must not be dropped by an idle exit).
   */
  after(ms: number, fn: () => void, options?: { keepAlive?: boolean }): Timer;
  /** Runs `fn` every `ms` until cancelled; never keeps the process alive. */
  every(ms: number, fn: () => void): Timer;
}

/** The real clock and timers. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  after(ms, fn, options) {
    const handle = setTimeout(fn, ms);
    if (!options?.keepAlive) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};
