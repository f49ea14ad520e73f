/**
 * Receipt watermarks (delivered / read up to seq) change on every message a device sees, but only
 * the highest matters. This keeps the highest per (room, user) and writes them together every
 * `intervalMs`, so a busy room costs one UPDATE per interval, not one per receipt.
 */
import { systemScheduler, type Scheduler, type Timer } from '../../../db/clock.ts';
import type { RelationalStore, WatermarkUpdate } from '../../../db/relational.port.ts';

export class WatermarkBatcher {
  private pending = new Map<string, WatermarkUpdate>();
  private timer: Timer | undefined;
  private writing: Promise<void> = Promise.resolve();

  private readonly store: RelationalStore;
  private readonly onError: (err: unknown) => void;
  private readonly intervalMs: number;
  private readonly scheduler: Scheduler;

  /**
   * @param intervalMs how long receipts gather before a write. Default 100 ms.
   * @param onError told about a failed write; its updates are kept for the next one.
   * @param scheduler the timers writes wait on. Default: the real ones.
   */
  constructor(
    store: RelationalStore,
    onError: (err: unknown) => void,
    intervalMs: number = 100,
    scheduler: Scheduler = systemScheduler,
  ) {
    this.store = store;
    this.onError = onError;
    this.intervalMs = intervalMs;
    this.scheduler = scheduler;
  }

  /** Records that `user` has delivered or read `room` up to `seq`. */
  raise(room: string, user: number, kind: 'delivered' | 'read', seq: number): void {
    const key = `${room}\u0000${user}`;
    const entry = this.pending.get(key) ?? { room, user };
    // A read message was necessarily delivered too.
    if (kind === 'read') entry.read = Math.max(entry.read ?? 0, seq);
    entry.delivered = Math.max(entry.delivered ?? 0, seq);
    this.pending.set(key, entry);
    this.timer ??= this.#after(this.intervalMs);
  }

  /** Writes everything pending now; resolves when written (or failed and kept). */
  flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** A pending write keeps the process alive until it is done, as a plain setTimeout did. */
  #after(ms: number): Timer {
    return this.scheduler.after(ms, () => void this.flush(), { keepAlive: true });
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.store.raiseWatermarks([...batch.values()]);
    } catch (err) {
      this.onError(err);
      for (const [key, u] of batch) {
        const newer = this.pending.get(key);
        this.pending.set(key, {
          room: u.room,
          user: u.user,
          delivered: Math.max(u.delivered ?? 0, newer?.delivered ?? 0),
          read: Math.max(u.read ?? 0, newer?.read ?? 0),
        });
      }
      this.timer ??= this.#after(this.intervalMs * 10);
    }
  }
}
