/**
 * A token bucket: `ratePerSec` tokens a second, at most `burst` banked. One per user per node, so
 * opening more sockets does not buy a flooder more frames.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  private readonly ratePerSec: number;
  private readonly burst: number;
  private readonly now: () => number;

  /** @param now the clock, in ms (default performance.now); tests drive their own. */
  constructor(
    ratePerSec: number,
    burst: number,
    now: () => number = () => performance.now(),
  ) {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the frame must be refused). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
