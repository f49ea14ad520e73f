/**
 * Finds users due an e-mail digest and enqueues one task each: an address and digests on, no push
 * subscription, no digest this period, offline for at least EMAIL_OFFLINE_MS, something unread.
 * Several workers may scan at once: the task's key (user + period) keeps it to one digest.
 */
import { systemScheduler, type Scheduler } from '../../db/clock.ts';
import type { IdempotencyStore } from '../../db/idempotency.port.ts';
import type { PresenceStore } from '../../db/presence.port.ts';
import type { TaskQueue } from '../tasks/queue.port.ts';
import { newTask } from '../tasks/task.types.ts';
import { unreadOf, type DigestDeps } from './email.job.ts';

export interface DigestSchedulerDeps extends DigestDeps {
  presence: PresenceStore;
  queue: TaskQueue;
  idempotency: IdempotencyStore;
  /** Offline at least this long, ms. */
  offlineMs: number;
  /** One digest per period, ms. */
  periodMs: number;
  /** Scan interval, ms. */
  scanMs: number;
  /** The time scans run on and judge by. Default: the real clock and timers. */
  scheduler?: Scheduler;
}

export interface DigestScheduler {
  /** The users the latest scan enqueued a digest for, once it has finished ([] before the first). */
  scanned(): Promise<number[]>;
  /** Stops scanning; resolves when a scan under way has finished. */
  stop(): Promise<void>;
}

/** One scan; returns the users a digest was enqueued for. */
export async function scanForDigests(deps: DigestSchedulerDeps, now = Date.now()): Promise<number[]> {
  const period = Math.floor(now / deps.periodMs) * deps.periodMs;
  const enqueued: number[] = [];
  for (const prefs of await deps.store.digestCandidates(now - deps.periodMs, 200)) {
    if (await deps.presence.isOnline(prefs.userId)) continue;
    const seen = await deps.presence.lastSeen(prefs.userId);
    if (seen !== null && now - seen < deps.offlineMs) continue;
    if ((await unreadOf(deps, prefs.userId)).length === 0) continue;
    // One task per user and period, however many scans and workers see the user as due.
    const task = newTask({ kind: 'email.digest', user: prefs.userId, period });
    if (!(await deps.idempotency.mark(`enqueued:${task.key}`, deps.periodMs))) continue;
    await deps.queue.publish(task);
    enqueued.push(prefs.userId);
  }
  return enqueued;
}

/** Scans every `scanMs` until stopped; a failed scan is logged and the next one tries again. */
export function startDigestScheduler(deps: DigestSchedulerDeps): DigestScheduler {
  const scheduler = deps.scheduler ?? systemScheduler;
  let running: Promise<number[]> = Promise.resolve([]);
  const timer = scheduler.every(deps.scanMs, () => {
    running = scanForDigests(deps, scheduler.now()).catch((err: unknown) => {
      deps.log.warn({ err }, 'digest scan failed');
      return [];
    });
  });
  return {
    scanned: () => running,
    stop: async () => {
      timer.cancel();
      await running;
    },
  };
}
