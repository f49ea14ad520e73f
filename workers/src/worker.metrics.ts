/**
 * The worker's Prometheus metrics: task outcomes from the runner's counts (read at scrape time, so
 * there is one count, the runner's) and the default Node metrics, event-loop delay included.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { OutboxStats } from '../../kit/amqp.outbox.ts';
import { taskOutboxMetrics } from '../tasks/outbox.metrics.ts';
import type { RunnerStats } from './task.runner.ts';

/** A registry whose task metrics read `stats()` (and `outbox()`) at every scrape. */
export function workerMetrics(stats: () => RunnerStats, outbox?: () => OutboxStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'messenger_worker_' });
  const outcome = (name: keyof RunnerStats, help: string) =>
    new Counter({
      name: `messenger_tasks_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(stats()[name]);
      },
    });
  outcome('processed', 'Tasks handled to completion');
  outcome('retried', 'Task attempts scheduled again after a failure, with backoff');
  outcome('deadLettered', 'Tasks moved to the dead-letter queue (failed past their attempts, or malformed)');
  outcome('duplicates', 'Redelivered tasks skipped because their idempotency key was already done');
  new Gauge({
    name: 'messenger_tasks_in_flight',
    help: 'Tasks being handled now',
    registers: [registry],
    collect() {
      this.set(stats().inFlight);
    },
  });
  if (outbox) taskOutboxMetrics(registry, outbox);
  return registry;
}
