import { Counter, Gauge, type Registry } from 'prom-client';
import type { OutboxStats } from '../../kit/amqp.outbox.ts';

/**
 * The task outbox's gauge and counter, read at scrape time: on the router (push tasks) and on the
 * worker (retries, digests).
 */
export function taskOutboxMetrics(registry: Registry, outbox: () => OutboxStats): void {
  new Gauge({
    name: 'messenger_tasks_unconfirmed',
    help: 'Tasks kept in memory until the broker confirms them (they wait out a broker outage here)',
    registers: [registry],
    collect() {
      this.set(outbox().pending);
    },
  });
  new Counter({
    name: 'messenger_tasks_refused_total',
    help: 'Tasks refused (and lost) because TASK_PENDING_MAX tasks were already waiting for the broker',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(outbox().refused);
    },
  });
}
