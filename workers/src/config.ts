/**
 * The worker process's configuration: read from the environment once, validated, frozen. The
 * worker is the full stack's: PostgreSQL, Redis and RabbitMQ are required (the embedded default
 * runs the same handlers inside the router instead).
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { amqpFields, amqpFrom, type AmqpConfig } from '../../kit/amqp.config.ts';
import { notifyFields, notifyFrom, type NotifyConfig } from '../tasks/notify.config.ts';

const url = (protocols: string[]) => z.string().url().refine((v) => protocols.includes(new URL(v).protocol), `must be a ${protocols.join(' or ')} URL`);
const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const schema = z.object({
  WORKER_PORT: int(3001, 0, 65535),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  MONGO_URL: url(['mongodb:', 'mongodb+srv:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']),
  AMQP_URL: url(['amqp:', 'amqps:']),
  ...amqpFields,
  PUBLIC_ORIGIN: z.string().url().default('http://localhost:3000'),
  NODE_ID: z.string().regex(/^[\w.-]{1,64}$/).optional(),
  SHUTDOWN_TIMEOUT_MS: int(30_000, 100, 600_000),
  REDIS_KEY_PREFIX: z.string().regex(/^[\w.:-]{0,64}$/).default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...notifyFields,
});

/** Every environment variable this config reads (docs and ops checks use it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(schema.shape);

export interface WorkerConfig {
  /** /healthz, /readyz, /metrics port; 0 picks one. Default 3001. */
  port: number;
  /** Interface to listen on. Default 0.0.0.0. */
  host: string;
  databaseUrl: string;
  /** History in MongoDB when set (as the router); PostgreSQL otherwise. */
  mongoUrl: string | undefined;
  redisUrl: string;
  amqpUrl: string;
  /** Reconnect backoff and the bound on tasks kept until the broker confirms them. */
  amqp: AmqpConfig;
  /** Origin for links in e-mails. Default http://localhost:3000. */
  publicOrigin: string;
  /** This worker's name in logs and on the broker. Default hostname-pid. */
  nodeId: string;
  /** Longest graceful shutdown (in-flight tasks finishing), ms. Default 30 s. */
  shutdownTimeoutMs: number;
  /** Prepended to every Redis key; the same value as the routers'. Default empty. */
  redisKeyPrefix: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  notify: NotifyConfig;
}

/** Thrown when the environment is invalid; the message lists every bad key. */
export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
}

/** Reads and validates the worker's configuration (default process.env). */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): Readonly<WorkerConfig> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (parsed.success) {
    const { problems: more } = notifyFrom(parsed.data);
    problems.push(...more, ...amqpFrom(parsed.data).problems);
    if (!parsed.data.VAPID_PUBLIC_KEY && !parsed.data.SMTP_URL) problems.push('VAPID_PUBLIC_KEY, SMTP_URL: neither push nor e-mail is configured; this worker would have nothing to do');
  }
  if (!parsed.success || problems.length) throw new WorkerConfigError(`invalid configuration:\n${problems.map((l) => `  ${l}`).join('\n')}`);
  const e = parsed.data;
  return Object.freeze({
    port: e.WORKER_PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    mongoUrl: e.MONGO_URL,
    redisUrl: e.REDIS_URL,
    amqpUrl: e.AMQP_URL,
    amqp: Object.freeze(amqpFrom(e).amqp),
    publicOrigin: new URL(e.PUBLIC_ORIGIN).origin,
    nodeId: e.NODE_ID ?? `worker-${hostname()}-${process.pid}`,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    logLevel: e.LOG_LEVEL,
    notify: Object.freeze(notifyFrom(e).notify),
  });
}
