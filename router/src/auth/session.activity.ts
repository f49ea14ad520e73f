/**
 * When a session was last used, kept coarse so it costs nothing on the hot path: an HTTP request or
 * a socket's frame touches the session store (which slides the expiry and sets `lastActiveAt`) only
 * when the session's last mark is ACTIVITY_STEP_MS old. A request or frame in between compares two
 * numbers. Sliding expiry moves in the same steps, which a 30-day session never notices.
 */
import { systemScheduler, type Clock } from '../../../db/clock.ts';
import type { SessionStore } from '../../../db/session.port.ts';
import type { Logger } from '../../../kit/logger.ts';

/** The grain of `lastActiveAt` and of the sliding expiry, ms. */
export const ACTIVITY_STEP_MS = 60_000;

export interface SessionActivityDeps {
  sessions: Pick<SessionStore, 'touch'>;
  /** `sessionTtlMs`: how far a touch slides the session's expiry, ms. */
  config: { sessionTtlMs: number };
  log: Pick<Logger, 'warn'>;
  /** Default: the real clock. */
  clock?: Clock;
}

export class SessionActivity {
  readonly #deps: SessionActivityDeps;
  readonly #clock: Clock;

  constructor(deps: SessionActivityDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemScheduler;
  }

  /**
   * The session `id`, last marked active at `lastActiveAt` (epoch ms), was used now: touches it
   * when that mark is a step old (not awaited: a failed touch only logs) and returns the mark the
   * caller keeps (now, or the old one).
   */
  seen(id: string, lastActiveAt: number): number {
    const now = this.#clock.now();
    if (now - lastActiveAt < ACTIVITY_STEP_MS) return lastActiveAt;
    void this.#deps.sessions.touch(id, this.#deps.config.sessionTtlMs).catch((err: unknown) => this.#deps.log.warn({ err }, 'session touch failed'));
    return now;
  }
}
