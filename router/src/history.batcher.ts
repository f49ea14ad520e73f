/**
 * Group commit for the history store. Appends that arrive while a batch is being written wait and
 * go together in the next one, so the store sees one transaction per round trip instead of one per
 * message: under load the batches grow, when idle a message is written alone and at once.
 *
 * Exactly one batch is in flight, which keeps the seqs of one room in the order the chatroom
 * actor submitted them.
 */
import type { AppendOutcome, HistoryStore, NewMessage } from '../../db/history.port.ts';

interface Pending {
  message: NewMessage;
  resolve(outcome: AppendOutcome): void;
  reject(err: unknown): void;
}

export interface BatcherStats {
  batches: number;
  messages: number;
  largestBatch: number;
}

export class HistoryBatcher {
  private queue: Pending[] = [];
  private writing = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  readonly stats: BatcherStats = { batches: 0, messages: 0, largestBatch: 0 };

  private readonly maxBatch: number;
  private readonly onBatch: (size: number, seconds: number) => void;

  /**
   * @param store where batches go.
   * @param options.maxBatch most messages in one transaction. Default 1000.
   * @param options.onBatch told each written batch's size and write time in seconds (metrics).
   */
  constructor(
    private readonly store: HistoryStore,
    options: { maxBatch?: number; onBatch?: (size: number, seconds: number) => void } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.onBatch = options.onBatch ?? (() => {});
  }

  /** Appends one message; resolves with its outcome once its batch is durable. */
  append(message: NewMessage): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or being written (graceful shutdown). */
  drained(): Promise<void> {
    if (!this.writing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a timer: collects what this I/O round produced without adding latency.
    setImmediate(() => {
      this.scheduled = false;
      void this.writeNext();
    });
  }

  private async writeNext(): Promise<void> {
    if (this.writing) return;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    this.writing = true;
    const started = performance.now();
    try {
      const outcomes = await this.store.append(batch.map((p) => p.message));
      this.onBatch(batch.length, (performance.now() - started) / 1000);
      this.stats.batches += 1;
      this.stats.messages += batch.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.writing = false;
    }
    if (this.queue.length > 0) void this.writeNext();
    else for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
