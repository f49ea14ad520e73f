/**
 * The task queue in process, for the embedded default and tests: the same contract as RabbitMQ
 * (attempts, delayed retries, a dead-letter list), nothing durable across restarts.
 */
import type { DeadLetter, Delivery, TaskQueue } from './queue.port.ts';
import type { Task } from './task.types.ts';

interface Item {
  content: Buffer;
  attempt: number;
}

export class MemoryTaskQueue implements TaskQueue {
  readonly #ready: Item[] = [];
  readonly #dead: DeadLetter[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #onDelivery: ((d: Delivery) => void) | undefined;
  #prefetch = 1;
  #unsettled = 0;
  #closed = false;

  async publish(task: Task): Promise<void> {
    this.publishRaw(Buffer.from(JSON.stringify(task)));
  }

  /** Enqueues raw bytes (tests use it to send malformed messages). */
  publishRaw(content: Buffer, attempt = 1): void {
    if (this.#closed) throw new Error('task queue is closed');
    this.#ready.push({ content, attempt });
    this.#pump();
  }

  async consume(onDelivery: (d: Delivery) => void, prefetch: number): Promise<void> {
    this.#onDelivery = onDelivery;
    this.#prefetch = Math.max(1, prefetch);
    this.#pump();
  }

  async stopConsuming(): Promise<void> {
    this.#onDelivery = undefined;
  }

  async listDead(limit: number): Promise<DeadLetter[]> {
    return this.#dead.slice(0, limit);
  }

  async requeueDead(limit: number): Promise<number> {
    const moved = this.#dead.splice(0, limit);
    for (const d of moved) this.#ready.push({ content: Buffer.from(d.content), attempt: 1 });
    this.#pump();
    return moved.length;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('task queue is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#onDelivery = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Messages waiting (not delivered, not delayed). */
  get depth(): number {
    return this.#ready.length;
  }

  #pump(): void {
    while (this.#onDelivery && this.#unsettled < this.#prefetch && this.#ready.length > 0) {
      const item = this.#ready.shift()!;
      this.#unsettled++;
      this.#onDelivery(this.#delivery(item));
    }
  }

  #delivery(item: Item): Delivery {
    let settled = false;
    const settle = (): void => {
      if (settled) throw new Error('delivery already settled');
      settled = true;
      this.#unsettled--;
      // Not synchronously: a handler settling inside onDelivery must not recurse into the next one.
      queueMicrotask(() => this.#pump());
    };
    return {
      content: item.content,
      attempt: item.attempt,
      redelivered: false,
      ack: async () => settle(),
      retry: async (delayMs) => {
        settle();
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!this.#closed) this.publishRaw(item.content, item.attempt + 1);
        }, delayMs);
        this.#timers.add(timer);
      },
      deadLetter: async (reason) => {
        settle();
        this.#dead.push({ content: item.content.toString('utf8'), reason, attempt: item.attempt, at: Date.now() });
      },
    };
  }
}
