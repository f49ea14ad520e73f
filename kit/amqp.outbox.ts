/**
 * Tasks published to RabbitMQ and not yet confirmed by it: kept in memory, in publish order, until
 * the broker's publisher confirm arrives, and sent again when it did not (the connection or the
 * channel was lost, or the broker nacked). So a task the router decided to send survives a broker
 * outage as long as the process does.
 *
 * - Each entry is on the wire at most once at a time, and a confirmed entry is never sent again.
 *   A task whose confirm was lost with the connection may have reached the queue and is sent again
 *   after reconnecting: it can arrive twice. The worker absorbs that (task.runner.ts: one key runs
 *   once per worker at a time, and a key already done is acked without running; push.job.ts marks
 *   each device it notified).
 * - Bounded: past `max` entries a new task is refused at once (its publish rejects, the caller
 *   logs it, `refused` counts it), rather than growing without limit during a long outage; the
 *   tasks already kept stay kept.
 * - After a nack the entry waits a backoff delay before it is sent again, so a broker refusing
 *   everything is not asked again in a tight loop.
 */
import { backoffDelay, type Timers } from './amqp.link.ts';

/** Tasks kept at most when no bound is given (TASK_PENDING_MAX's default). */
export const DEFAULT_PENDING_MAX = 10_000;

export interface OutboxStats {
  /** Tasks waiting for the broker's confirm. */
  pending: number;
  /** Tasks refused because `max` were already waiting. */
  refused: number;
}

export interface OutboxOptions {
  /** Most tasks kept at once (TASK_PENDING_MAX). */
  max: number;
  /**
   * Hands one task to the broker, `confirmed` to be called with the broker's answer; returns false
   * (or throws) when there is no channel to send it on (the link is down).
   */
  send(queue: string, content: Buffer, headers: Record<string, unknown>, confirmed: (err: unknown) => void): boolean;
  /** Retry delays after a nack: the link's backoff. */
  minMs: number;
  maxMs: number;
  timers: Timers;
}

interface Entry {
  queue: string;
  content: Buffer;
  headers: Record<string, unknown>;
  resolve(): void;
  reject(err: Error): void;
  /** The send whose confirm counts; 0 while the entry is not on the wire. */
  sending: number;
}

export class TaskOutbox {
  readonly #o: OutboxOptions;
  /** Insertion order is publish order. */
  readonly #entries = new Set<Entry>();
  #sends = 0;
  #refused = 0;
  #nacks = 0;
  #retry: unknown;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  get stats(): OutboxStats {
    return { pending: this.#entries.size, refused: this.#refused };
  }

  /** Keeps the task until the broker confirms it; resolves then. Rejects at once past `max`. */
  add(queue: string, content: Buffer, headers: Record<string, unknown>): Promise<void> {
    if (this.#entries.size >= this.#o.max) {
      this.#refused++;
      return Promise.reject(new Error(`${this.#o.max} tasks are already waiting for the broker's confirm (TASK_PENDING_MAX): this one is not kept`));
    }
    return new Promise((resolve, reject) => {
      const entry: Entry = { queue, content, headers, resolve, reject, sending: 0 };
      this.#entries.add(entry);
      this.#send(entry);
    });
  }

  /** Sends every entry that is not on the wire (the link is back). */
  resend(): void {
    for (const entry of this.#entries) if (entry.sending === 0) this.#send(entry);
  }

  /** Gives up on every entry (the queue is closing); returns how many were never confirmed. */
  abandon(why: string): number {
    if (this.#retry !== undefined) this.#o.timers.clearTimeout(this.#retry);
    this.#retry = undefined;
    const lost = this.#entries.size;
    for (const entry of this.#entries) entry.reject(new Error(why));
    this.#entries.clear();
    return lost;
  }

  #send(entry: Entry): void {
    const token = ++this.#sends;
    entry.sending = token;
    let sent = false;
    try {
      sent = this.#o.send(entry.queue, entry.content, entry.headers, (err) => this.#confirmed(entry, token, err));
    } catch {
      // The channel was closed under us: the same as no channel.
    }
    if (!sent && entry.sending === token) entry.sending = 0;
  }

  #confirmed(entry: Entry, token: number, err: unknown): void {
    // A confirm of an earlier send of an entry sent again since, or of one already abandoned.
    if (entry.sending !== token || !this.#entries.has(entry)) return;
    if (!err) {
      this.#nacks = 0;
      this.#entries.delete(entry);
      entry.resolve();
      return;
    }
    // Kept: sent again after the backoff, or when the link is back, whichever comes first.
    entry.sending = 0;
    if (this.#retry !== undefined) return;
    this.#retry = this.#o.timers.setTimeout(() => {
      this.#retry = undefined;
      this.resend();
    }, backoffDelay(this.#nacks++, this.#o.minMs, this.#o.maxMs));
  }
}
