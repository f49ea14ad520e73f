/**
 * The notification settings both processes read: the worker (workers/src/config.ts) and the router
 * (router/src/config.ts), which enqueues tasks and, on the embedded default, runs the handlers
 * in-process. Each config file lists these keys in its own schema and maps them with notifyFrom().
 */
import { z } from 'zod';
import { bool, int } from '../../kit/config.ts';
import type { VapidKeys } from './vapid.ts';

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

/** The zod field of each notification key; config files use them under the same names. */
export const notifyFields = {
  TASK_QUEUE: z.string().regex(/^[\w.-]{1,200}$/).default('messenger.tasks'),
  WORKER_CONCURRENCY: int(8, 1, 1000),
  WORKER_PREFETCH: int(16, 1, 10_000),
  TASK_MAX_ATTEMPTS: int(5, 1, 100),
  TASK_RETRY_BASE_MS: int(5000, 10, 3600_000),
  TASK_RETRY_MAX_MS: int(300_000, 10, 24 * 3600_000),
  IDEMPOTENCY_TTL_MS: int(7 * 24 * 3600_000, 60_000, 90 * 24 * 3600_000),
  VAPID_PUBLIC_KEY: base64url.optional(),
  VAPID_PRIVATE_KEY: base64url.optional(),
  VAPID_SUBJECT: z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https: URL').default('mailto:admin@localhost'),
  PUSH_TTL_S: int(86_400, 0, 28 * 86_400),
  PUSH_URGENCY: z.enum(['very-low', 'low', 'normal', 'high']).default('high'),
  PUSH_ALLOW_PRIVATE_ENDPOINTS: bool,
  PRESENCE_TTL_MS: int(30_000, 300, 3600_000),
  SMTP_URL: z.string().url().refine((v) => ['smtp:', 'smtps:'].includes(new URL(v).protocol), 'must be an smtp: or smtps: URL').optional(),
  EMAIL_FROM: z.string().min(3).default('Messenger <messenger@localhost>'),
  EMAIL_OFFLINE_MS: int(3600_000, 0, 365 * 24 * 3600_000),
  EMAIL_DIGEST_PERIOD_MS: int(24 * 3600_000, 1000, 365 * 24 * 3600_000),
  DIGEST_SCAN_MS: int(60_000, 100, 24 * 3600_000),
};

type NotifyEnv = z.output<z.ZodObject<typeof notifyFields>>;

export interface NotifyConfig {
  /** The RabbitMQ task queue (and prefix of its delay and dead-letter queues). Default messenger.tasks. */
  taskQueue: string;
  /** Handlers running at once per worker. Default 8. */
  concurrency: number;
  /** Unacknowledged tasks the broker hands one worker. Default 16. */
  prefetch: number;
  /** Attempts before a task is dead-lettered. Default 5. */
  maxAttempts: number;
  /** First retry delay, ms; doubles per attempt. Default 5 s. */
  retryBaseMs: number;
  /** Longest retry delay, ms. Default 5 min. */
  retryMaxMs: number;
  /** How long done tasks' keys are remembered, ms. Default 7 days. */
  idempotencyTtlMs: number;
  /** VAPID key pair; unset: generated into DATA_DIR on the embedded default, push off on the full stack. */
  vapid: VapidKeys | undefined;
  /** VAPID contact. Default mailto:admin@localhost. */
  vapidSubject: string;
  /** Push TTL, seconds. Default 1 day. */
  pushTtlSeconds: number;
  /** Push urgency. Default high. */
  pushUrgency: 'very-low' | 'low' | 'normal' | 'high';
  /** Accept loopback/private/link-local push endpoints and local names (tests and private deployments only; cloud metadata stays refused). Default false. */
  allowPrivateEndpoints: boolean;
  /** How long a node's presence entry counts without a heartbeat, ms. Default 30 s. */
  presenceTtlMs: number;
  /** SMTP server; unset: no e-mail at all. */
  smtpUrl: string | undefined;
  /** From: of digests. */
  emailFrom: string;
  /** Offline this long before a digest, ms. Default 1 h. */
  emailOfflineMs: number;
  /** At most one digest per user per period, ms. Default 1 day. */
  emailDigestPeriodMs: number;
  /** How often the digest scheduler looks for users to mail, ms. Default 1 min. */
  digestScanMs: number;
}

/** Maps the parsed keys; `problems` lists combinations that are invalid. */
export function notifyFrom(e: NotifyEnv): { notify: NotifyConfig; problems: string[] } {
  const problems: string[] = [];
  if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) problems.push('VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither (npm run vapid)');
  if (e.TASK_RETRY_MAX_MS < e.TASK_RETRY_BASE_MS) problems.push('TASK_RETRY_MAX_MS: must not be below TASK_RETRY_BASE_MS');
  return {
    problems,
    notify: {
      taskQueue: e.TASK_QUEUE,
      concurrency: e.WORKER_CONCURRENCY,
      prefetch: e.WORKER_PREFETCH,
      maxAttempts: e.TASK_MAX_ATTEMPTS,
      retryBaseMs: e.TASK_RETRY_BASE_MS,
      retryMaxMs: e.TASK_RETRY_MAX_MS,
      idempotencyTtlMs: e.IDEMPOTENCY_TTL_MS,
      vapid: e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY } : undefined,
      vapidSubject: e.VAPID_SUBJECT,
      pushTtlSeconds: e.PUSH_TTL_S,
      pushUrgency: e.PUSH_URGENCY,
      allowPrivateEndpoints: e.PUSH_ALLOW_PRIVATE_ENDPOINTS,
      presenceTtlMs: e.PRESENCE_TTL_MS,
      smtpUrl: e.SMTP_URL,
      emailFrom: e.EMAIL_FROM,
      emailOfflineMs: e.EMAIL_OFFLINE_MS,
      emailDigestPeriodMs: e.EMAIL_DIGEST_PERIOD_MS,
      digestScanMs: e.DIGEST_SCAN_MS,
    },
  };
}
