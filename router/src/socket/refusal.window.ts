/**
 * What one socket's rate-limit refusals add up to. The bucket alone cannot tell a burst from a
 * flood: it refills a token every 1/rate s, so a client sending far above the rate still gets a
 * frame through now and then, and counting refusals "in a row" restarted at each of those. Here
 * refusals are counted in a window of time instead, whatever got through in between.
 */

/** When a socket that keeps sending is closed. */
export interface FloodPolicy {
  /** Length of the window, ms; it opens at a socket's first refusal after the previous one ended. */
  windowMs: number;
  /** Refusals a socket may collect within one window; the next one closes it (1008). */
  closeAfter: number;
}

/**
 * What to do with one refused frame: `answer` with a `rate_limited` error (the window's first
 * refusal, so the client learns it is limited), `drop` it silently (answering every dropped frame
 * would let a flooder make us write as fast as it writes), or `close` the socket.
 */
export type RefusalVerdict = 'answer' | 'drop' | 'close';

/** One socket's refusals: a fixed window that opens at a refusal and lasts `windowMs`. */
export class RefusalWindow {
  private openedAt = -Infinity;
  private count = 0;

  private readonly policy: FloodPolicy;
  private readonly now: () => number;

  /** @param now the clock, in ms (the registry's: performance.now unless a test drives it). */
  constructor(
    policy: FloodPolicy,
    now: () => number,
  ) {
    this.policy = policy;
    this.now = now;
  }

  /** Counts one refused frame and says what to do with it. */
  refuse(): RefusalVerdict {
    const now = this.now();
    if (now - this.openedAt >= this.policy.windowMs) {
      this.openedAt = now;
      this.count = 0;
    }
    this.count += 1;
    if (this.count > this.policy.closeAfter) return 'close';
    return this.count === 1 ? 'answer' : 'drop';
  }
}
