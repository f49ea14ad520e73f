/**
 * The task queue: durable delivery of tasks from producers to workers. Two implementations keep
 * one contract (workers/test/task.queue.contract.ts): RabbitMQ (queue.amqp.ts) for the full
 * stack, in-process (queue.memory.ts) for the embedded default. The queue only moves bytes
 * and counts attempts; task.runner.ts decides what happens to each delivery.
 */
import type { OutboxStats } from '../../kit/amqp.outbox.ts';
import type { Task } from './task.types.ts';

/** One delivery of one message. Exactly one of ack / retry / deadLetter must be called. */
export interface Delivery {
  /** The raw message body (may not be a valid task). */
  content: Buffer;
  /** 1 on the first delivery; +1 for every retry (redeliveries after a crash do not count). */
  attempt: number;
  /** True when the broker delivered this message before (a consumer died holding it). */
  redelivered: boolean;
  /** Done: the message is removed. */
  ack(): Promise<void>;
  /** Puts the message back after `delayMs`, as attempt + 1. Resolves once that copy is durable. */
  retry(delayMs: number, reason: string): Promise<void>;
  /** Moves the message to the dead-letter queue with the reason, kept for inspection. */
  deadLetter(reason: string): Promise<void>;
}

/** A message kept in the dead-letter queue. */
export interface DeadLetter {
  content: string;
  reason: string;
  attempt: number;
  /** When it was dead-lettered (ms since epoch). */
  at: number;
}

export interface TaskQueue {
  /** Enqueues a task durably: resolves once the broker has confirmed it. */
  publish(task: Task): Promise<void>;
  /** Starts delivering messages to `onDelivery`, at most `prefetch` unsettled at a time. */
  consume(onDelivery: (d: Delivery) => void, prefetch: number): Promise<void>;
  /** Stops taking new deliveries; unsettled ones may still be settled. */
  stopConsuming(): Promise<void>;
  /** Dead letters, oldest first, without removing them (at most `limit`). */
  listDead(limit: number): Promise<DeadLetter[]>;
  /** Moves up to `limit` dead letters back to the queue as fresh attempts; returns how many. */
  requeueDead(limit: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Tasks kept until the broker confirms them, and tasks refused past the bound; brokers only. */
  outboxStats?(): OutboxStats;
}
