/**
 * Deleting attachments' bytes: uploads no message carried within UPLOAD_TTL_MS (and claims whose
 * message was never stored), swept on the node's scheduler, and the attachments of a message
 * deleted for everyone. Blobs go first and the row after, so a failure leaves a row the next sweep
 * finds again, never a blob nobody knows of.
 */
import type { BlobStore } from '../../../db/blob.port.ts';
import type { Scheduler, Timer } from '../../../db/clock.ts';
import type { UploadRecord, UploadStore } from '../../../db/upload.port.ts';
import type { Logger } from '../../../kit/logger.ts';

export interface SweeperDeps {
  blobs: Pick<BlobStore, 'delete'>;
  uploads: Pick<UploadStore, 'unsettledBefore' | 'ofMessage' | 'remove'>;
  scheduler: Scheduler;
  /** UPLOAD_TTL_MS. */
  ttlMs: number;
  log: Logger;
}

/** Rows one sweep step reads at a time. */
const SWEEP_PAGE = 100;

export class UploadSweeper {
  private readonly deps: SweeperDeps;
  private timer: Timer | undefined;
  private running: Promise<number> | undefined;

  constructor(deps: SweeperDeps) {
    this.deps = deps;
  }

  /** Sweeps every `intervalMs` (default a tenth of the TTL, at least a minute) until stop(). */
  start(intervalMs = Math.max(60_000, Math.floor(this.deps.ttlMs / 10))): void {
    this.timer = this.deps.scheduler.every(intervalMs, () => void this.sweep());
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.running;
  }

  /** Deletes every upload past the TTL that no stored message carries; resolves with how many. One sweep at a time. */
  sweep(): Promise<number> {
    this.running ??= this.sweepAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepAll(): Promise<number> {
    let removed = 0;
    try {
      const cutoff = this.deps.scheduler.now() - this.deps.ttlMs;
      for (;;) {
        const page = await this.deps.uploads.unsettledBefore(cutoff, SWEEP_PAGE);
        if (page.length === 0) break;
        removed += await this.drop(page);
        if (page.length < SWEEP_PAGE) break;
      }
    } catch (err) {
      this.deps.log.warn({ err }, 'upload sweep failed; the next one tries again');
    }
    return removed;
  }

  /** A message was deleted for everyone: its attachments' bytes go too. */
  async dropMessage(room: string, seq: number): Promise<void> {
    await this.drop(await this.deps.uploads.ofMessage(room, seq));
  }

  private async drop(uploads: readonly UploadRecord[]): Promise<number> {
    const done: string[] = [];
    for (const u of uploads) {
      try {
        if (u.thumbKey) await this.deps.blobs.delete(u.thumbKey);
        await this.deps.blobs.delete(u.blobKey);
        done.push(u.id);
      } catch (err) {
        this.deps.log.warn({ err, upload: u.id }, 'could not delete an attachment\'s bytes; kept for the next sweep');
      }
    }
    await this.deps.uploads.remove(done);
    return done.length;
  }
}
