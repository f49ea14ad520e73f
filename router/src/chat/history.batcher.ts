/**
 * Group commit for the history store. Appends that arrive while batches are being written wait and
 * go together in the next one, so the store sees one transaction per round trip instead of one per
 * message: under load the batches grow, when idle a message is written alone and at once.
 *
 * Up to `maxInFlight` batches are written at once, which hides the commit's fsync behind the next
 * batch; but a further batch starts only once `parallelAfter` messages wait or the oldest has waited
 * `parallelAfterMs`, so light load fills one batch instead of paying a transaction per message.
 * A room is in at most one in-flight batch, and a message never overtakes an earlier one of its
 * room, so each room's seqs follow the order the chatroom actor submitted its messages.
 *
 * A batch the store refuses for its content (`HistoryContentError`: one hostile body can do that
 * to everyone's messages) is split in halves, written in order in the same slot, until the message
 * at fault fails alone with that error; every other message is stored once. Any other failure
 * rejects every message of the batch that is not yet stored, as its outcome is unknown.
 */
import { systemScheduler, type Scheduler, type Timer } from '../../../db/clock.ts';
import { isHistoryContentError, type AppendOutcome, type HistoryStore, type NewMessage } from '../../../db/history.port.ts';

/**
 * The batcher's default time: performance.now(), monotonic and finer than a millisecond, which the
 * 2 ms wait needs; only differences of it are read, never the epoch.
 */
const monotonic: Scheduler = {
  ...systemScheduler,
  now: () => performance.now(),
  // A batch's wait keeps the process alive: messages are waiting on it.
  after: (ms, fn) => systemScheduler.after(ms, fn, { keepAlive: true }),
};

interface Pending {
  message: NewMessage;
  /** The further entries of one group request, which go in the same batch as `message`, right after it. */
  more?: NewMessage[];
  /** The scheduler's time when queued. */
  since: number;
  resolve(outcome: AppendOutcome, more?: AppendOutcome[]): void;
  reject(err: unknown): void;
}

export interface BatcherOptions {
  /** Most messages in one transaction. Default 1000. */
  maxBatch?: number;
  /** Most transactions in flight at once. Default 4. */
  maxInFlight?: number;
  /** Messages waiting that justify a further concurrent transaction. Default 32. */
  parallelAfter?: number;
  /** Wait of the oldest queued message that justifies a further concurrent transaction, ms. Default 2. */
  parallelAfterMs?: number;
  /** The time the `parallelAfterMs` wait runs on (tests move it). Default: performance.now() and real timers. */
  scheduler?: Scheduler;
  /** Told each written batch's size and write time in seconds (metrics). */
  onBatch?: (size: number, seconds: number) => void;
}

export class HistoryBatcher {
  private queue: Pending[] = [];
  /** Rooms with a message in a batch being written. */
  private readonly busyRooms = new Set<string>();
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly parallelAfter: number;
  private readonly parallelAfterMs: number;
  private waitTimer: Timer | undefined;
  private readonly time: Scheduler;
  private readonly onBatch: (size: number, seconds: number) => void;

  private readonly store: HistoryStore;

  constructor(
    store: HistoryStore,
    options: BatcherOptions = {},
  ) {
    this.store = store;
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.parallelAfter = options.parallelAfter ?? 32;
    this.parallelAfterMs = options.parallelAfterMs ?? 2;
    this.onBatch = options.onBatch ?? (() => {});
    this.time = options.scheduler ?? monotonic;
  }

  /** Appends one message; resolves with its outcome once its batch is durable. */
  append(message: NewMessage): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, since: this.time.now(), resolve, reject });
      this.schedule();
    });
  }

  /**
   * Appends the entries of one group request together: in one batch, in order, so the store decides
   * them at once (all stored, or all refused). Resolves with one outcome per entry.
   */
  appendAll(entries: readonly NewMessage[]): Promise<AppendOutcome[]> {
    const [first, ...more] = entries;
    if (!first) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ message: first, more, since: this.time.now(), resolve: (o, rest = []) => resolve([o, ...rest]), reject });
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or being written (graceful shutdown). */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private get idle(): boolean {
    return this.inFlight === 0 && this.queue.length === 0;
  }

  private schedule(): void {
    if (this.inFlight >= this.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    // setImmediate, not a timer: collects what this I/O round produced without adding latency.
    setImmediate(() => {
      this.scheduled = false;
      this.startBatch();
    });
  }

  /** Takes the next batch: queue order, skipping rooms in flight and everything behind a skipped message of the same room. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const blocked = new Set(this.busyRooms);
    for (const p of this.queue) {
      const room = p.message.room;
      if (batch.length >= this.maxBatch || blocked.has(room)) {
        blocked.add(room);
        rest.push(p);
      } else {
        batch.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private startBatch(): void {
    if (this.inFlight >= this.maxInFlight || this.queue.length === 0 && this.inFlight > 0) return;
    if (this.inFlight > 0 && this.queue.length < this.parallelAfter) {
      const waited = this.time.now() - this.queue[0]!.since;
      if (waited < this.parallelAfterMs) {
        // Not worth another transaction yet: look again when the oldest message has waited enough.
        this.waitTimer ??= this.time.after(Math.ceil(this.parallelAfterMs - waited), () => {
          this.waitTimer = undefined;
          this.startBatch();
        });
        return;
      }
    }
    const batch = this.takeBatch();
    if (batch.length === 0) {
      if (this.idle) for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    const rooms = new Set(batch.map((p) => p.message.room));
    for (const room of rooms) this.busyRooms.add(room);
    this.inFlight++;
    void this.write(batch).finally(() => {
      for (const room of rooms) this.busyRooms.delete(room);
      this.inFlight--;
      this.startBatch();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.commit(batch);
    } catch (err) {
      if (batch.length > 1 && isHistoryContentError(err)) return this.isolate(batch);
      for (const p of batch) p.reject(err);
    }
  }

  /** One append of `batch`; resolves each message with its outcome, or throws the store's error. */
  private async commit(batch: readonly Pending[]): Promise<void> {
    const started = performance.now();
    // 1:1 messages never carry `more`: the batch is one entry per pending, as it always was.
    const grouped = batch.some((p) => p.more);
    const entries = grouped ? batch.flatMap((p) => [p.message, ...(p.more ?? [])]) : batch.map((p) => p.message);
    const outcomes = await this.store.append(entries);
    this.onBatch(entries.length, (performance.now() - started) / 1000);
    if (!grouped) {
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
      return;
    }
    let at = 0;
    for (const p of batch) {
      const n = 1 + (p.more?.length ?? 0);
      p.resolve(outcomes[at]!, outcomes.slice(at + 1, at + n));
      at += n;
    }
  }

  /**
   * Writes a batch the store refused for its content in halves, depth first and in queue order, so
   * a room's messages are still written in submission order; its rooms stay busy and its slot taken
   * until the end. A part refused for its content is split again or, down to one message, rejected
   * with that error. A part that fails otherwise stops it: that part and every later one are
   * rejected, as a store that is down would refuse each in turn.
   */
  private async isolate(batch: readonly Pending[]): Promise<void> {
    // Parts still to write, as [from, to) of `batch`, the next one last.
    const parts = halves(0, batch.length).reverse();
    for (let part = parts.pop(); part; part = parts.pop()) {
      const [from, to] = part;
      try {
        await this.commit(batch.slice(from, to));
      } catch (err) {
        if (!isHistoryContentError(err)) {
          for (const p of batch.slice(from)) p.reject(err);
          return;
        }
        if (to - from === 1) batch[from]!.reject(err);
        else parts.push(...halves(from, to).reverse());
      }
    }
  }
}

/** [from, to) cut in two, the first half no longer than the second. */
function halves(from: number, to: number): Array<[number, number]> {
  const mid = from + Math.floor((to - from) / 2);
  return [
    [from, mid],
    [mid, to],
  ];
}
