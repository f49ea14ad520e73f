/**
 * The handlers, the runner and the digest scheduler wired together on a queue and stores. The
 * worker process (main.ts) runs it on RabbitMQ; the router's embedded default runs the same thing
 * in-process on the memory queue.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { Scheduler } from '../../db/clock.ts';
import type { HistoryStore } from '../../db/history.port.ts';
import type { IdempotencyStore } from '../../db/idempotency.port.ts';
import type { NotifyStore } from '../../db/notify.port.ts';
import type { PresenceStore } from '../../db/presence.port.ts';
import type { RelationalStore } from '../../db/relational.port.ts';
import { startDigestScheduler, type DigestScheduler } from './digest.scheduler.ts';
import { emailJob } from './email.job.ts';
import type { NotifyConfig } from '../tasks/notify.config.ts';
import type { ResolveHost } from '../tasks/push.endpoint.ts';
import { pushJob } from './push.job.ts';
import type { TaskQueue } from '../tasks/queue.port.ts';
import { TaskRunner } from './task.runner.ts';
import type { VapidKeys } from '../tasks/vapid.ts';

export interface WorkerRuntimeDeps {
  queue: TaskQueue;
  idempotency: IdempotencyStore;
  store: NotifyStore;
  relational: RelationalStore;
  history: HistoryStore;
  presence: PresenceStore;
  log: Logger;
  notify: NotifyConfig;
  /** The VAPID pair in use (config or generated); without one push tasks are dead-lettered. */
  vapid: VapidKeys | undefined;
  publicOrigin: string;
  /** CA certificates (PEM) push requests trust instead of the system's (tests' local push service). */
  pushCa?: string;
  /** Resolves push endpoint hosts for the address check. Default: the system resolver. */
  pushResolve?: ResolveHost;
  /** The time digest scans run on. Default: the real clock and timers. */
  scheduler?: Scheduler;
}

export interface WorkerRuntime {
  runner: TaskRunner;
  /** The digest scans; undefined without SMTP. */
  digests: DigestScheduler | undefined;
  /** Stops the scheduler, then the runner gracefully (in-flight tasks finish). */
  stop(): Promise<void>;
}

/** Starts consuming tasks (and, with SMTP configured, scanning for digests). */
export async function startWorkerRuntime(deps: WorkerRuntimeDeps): Promise<WorkerRuntime> {
  const { notify, log } = deps;
  const transport = notify.smtpUrl ? nodemailer.createTransport(notify.smtpUrl) : undefined;
  const push = deps.vapid
    ? pushJob({
        store: deps.store,
        idempotency: deps.idempotency,
        log,
        vapid: deps.vapid,
        subject: notify.vapidSubject,
        ttlSeconds: notify.pushTtlSeconds,
        urgency: notify.pushUrgency,
        allowPrivateEndpoints: notify.allowPrivateEndpoints,
        idempotencyTtlMs: notify.idempotencyTtlMs,
        ...(deps.pushCa ? { ca: deps.pushCa } : {}),
        ...(deps.pushResolve ? { resolve: deps.pushResolve } : {}),
      })
    : async () => ({ status: 'failed' as const, reason: 'push is not configured (VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY)' });
  const email = transport
    ? emailJob({ store: deps.store, relational: deps.relational, history: deps.history, log, publicOrigin: deps.publicOrigin, transport, from: notify.emailFrom })
    : async () => ({ status: 'failed' as const, reason: 'e-mail is not configured (SMTP_URL)' });
  const runner = new TaskRunner({
    queue: deps.queue,
    idempotency: deps.idempotency,
    log,
    handlers: { 'push.message': push, 'email.digest': email },
    concurrency: notify.concurrency,
    prefetch: notify.prefetch,
    maxAttempts: notify.maxAttempts,
    retryBaseMs: notify.retryBaseMs,
    retryMaxMs: notify.retryMaxMs,
    idempotencyTtlMs: notify.idempotencyTtlMs,
  });
  await runner.start();
  // No SMTP, no e-mail tasks at all.
  const scheduler = transport
    ? startDigestScheduler({
        store: deps.store,
        relational: deps.relational,
        history: deps.history,
        presence: deps.presence,
        queue: deps.queue,
        idempotency: deps.idempotency,
        log,
        publicOrigin: deps.publicOrigin,
        offlineMs: notify.emailOfflineMs,
        periodMs: notify.emailDigestPeriodMs,
        scanMs: notify.digestScanMs,
        scheduler: deps.scheduler,
      })
    : undefined;
  return {
    runner,
    digests: scheduler,
    stop: async () => {
      await scheduler?.stop();
      await runner.stop();
      transport?.close();
    },
  };
}
