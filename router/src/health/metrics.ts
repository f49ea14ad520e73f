/**
 * The router's Prometheus metrics, served at GET /metrics. One registry per node (tests run several
 * nodes in one process), default Node metrics included: event-loop delay, heap, GC, handles.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutboxStats } from '../../../kit/amqp.outbox.ts';
import { taskOutboxMetrics } from '../../../workers/tasks/outbox.metrics.ts';

export class RouterMetrics {
  readonly registry = new Registry();

  readonly messagesStored = new Counter({
    name: 'messenger_messages_stored_total',
    help: 'Messages durably stored and acknowledged by this node',
    registers: [this.registry],
  });
  readonly framesIn = new Counter({
    name: 'messenger_frames_in_total',
    help: 'WebSocket frames received from clients',
    registers: [this.registry],
  });
  readonly framesOut = new Counter({
    name: 'messenger_fanout_frames_total',
    help: 'Live event frames written to local sockets, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly deliveryLatency = new Histogram({
    name: 'messenger_delivery_latency_seconds',
    help: 'From a message being stored to its frame being written to a recipient socket on this node',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly commitLatency = new Histogram({
    name: 'messenger_history_commit_seconds',
    help: 'Time to write one group-commit batch to the history store',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'messenger_history_batch_messages',
    help: 'Messages per group-commit batch',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly busConfirmLatency = new Histogram({
    name: 'messenger_bus_confirm_seconds',
    help: 'From publishing a batch of live events to RabbitMQ to its publisher confirm',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly busEventsDropped = new Counter({
    name: 'messenger_bus_events_dropped_total',
    help: 'Live events other nodes may not have got: published while RabbitMQ was unreachable, or in a batch it did not confirm (clients resync them from history)',
    registers: [this.registry],
  });
  readonly errorsSent = new Counter({
    name: 'messenger_error_frames_total',
    help: 'Error frames sent to clients, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly framesRateLimited = new Counter({
    name: 'messenger_frames_rate_limited_total',
    help: 'Frames dropped by the rate limit; only the first of each window gets an error frame',
    registers: [this.registry],
  });

  /**
   * @param gauges live values read at scrape time (connections, actors), so nothing has to keep
   *   a second count in step with the registry and the directory; `taskOutbox` when the task
   *   queue is RabbitMQ.
   */
  constructor(gauges: { connections(): number; chatroomActors(): number; taskOutbox?: (() => OutboxStats) | undefined }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'messenger_' });
    if (gauges.taskOutbox) taskOutboxMetrics(this.registry, gauges.taskOutbox);
    new Gauge({
      name: 'messenger_connections',
      help: 'Open WebSocket connections on this node',
      registers: [this.registry],
      collect() {
        this.set(gauges.connections());
      },
    });
    new Gauge({
      name: 'messenger_chatroom_actors',
      help: 'Chatroom actors alive on this node',
      registers: [this.registry],
      collect() {
        this.set(gauges.chatroomActors());
      },
    });
  }
}
