/**
 * The RabbitMQ link settings both processes read: the router (bus and task producer) and the worker
 * (task consumer). Each config file lists these keys in its own schema and maps them with amqpFrom().
 */
import { z } from 'zod';
import { int } from './config.ts';
import { DEFAULT_BACKOFF } from './amqp.link.ts';
import { DEFAULT_PENDING_MAX } from './amqp.outbox.ts';

/** The zod field of each key; config files use them under the same names. */
export const amqpFields = {
  AMQP_RECONNECT_MIN_MS: int(DEFAULT_BACKOFF.minMs, 1, 60_000),
  AMQP_RECONNECT_MAX_MS: int(DEFAULT_BACKOFF.maxMs, 1, 3600_000),
  TASK_PENDING_MAX: int(DEFAULT_PENDING_MAX, 1, 10_000_000),
};

type AmqpEnv = z.output<z.ZodObject<typeof amqpFields>>;

export interface AmqpConfig {
  /** Ceiling of the first reconnect delay after the broker is lost, ms; doubles per failed attempt (jittered). Default 100. */
  reconnectMinMs: number;
  /** Ceiling of any reconnect delay, ms. Default 10 s. */
  reconnectMaxMs: number;
  /** Most tasks kept in memory until the broker confirms them; past it a new task is refused and logged. Default 10 000. */
  pendingTasksMax: number;
}

/** Maps the parsed keys; `problems` lists combinations that are invalid. */
export function amqpFrom(e: AmqpEnv): { amqp: AmqpConfig; problems: string[] } {
  const problems: string[] = [];
  if (e.AMQP_RECONNECT_MAX_MS < e.AMQP_RECONNECT_MIN_MS) problems.push('AMQP_RECONNECT_MAX_MS: must not be below AMQP_RECONNECT_MIN_MS');
  return { problems, amqp: { reconnectMinMs: e.AMQP_RECONNECT_MIN_MS, reconnectMaxMs: e.AMQP_RECONNECT_MAX_MS, pendingTasksMax: e.TASK_PENDING_MAX } };
}
