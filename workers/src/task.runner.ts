/**
 * The one place that decides what happens to a delivered task: ack, retry with backoff, or the
 * dead-letter queue. Handlers only say what happened (an Outcome) or throw; this file applies the
 * attempt limit, the backoff schedule and the task-level idempotency key, runs at most
 * `concurrency` handlers at once, counts outcomes and logs each one.
 */
import type { Logger } from 'pino';
import type { IdempotencyStore } from '../../db/idempotency.port.ts';
import type { Delivery, TaskQueue } from '../tasks/queue.port.ts';
import { parseTask, type Task, type TaskKind, type TaskOf } from '../tasks/task.types.ts';

/**
 * What a handler reports.
 * - `done`: the effect happened (or there was nothing to do): ack.
 * - `retry`: a transient failure (a 5xx, a 429, a timeout): try again later, up to the limit.
 * - `failed`: a permanent failure (bad configuration, an impossible task): dead-letter now.
 */
export type Outcome = { status: 'done'; note?: string } | { status: 'retry'; reason: string; afterMs?: number } | { status: 'failed'; reason: string };

export type Handler<K extends TaskKind> = (task: TaskOf<K>, info: { attempt: number }) => Promise<Outcome>;
export type Handlers = { [K in TaskKind]: Handler<K> };

export interface RunnerOptions {
  queue: TaskQueue;
  handlers: Handlers;
  /** Marks each finished task's key so a redelivery is acked without running again. */
  idempotency: IdempotencyStore;
  log: Logger;
  /** Handlers running at once. Default 8. */
  concurrency?: number;
  /** Unacknowledged deliveries the broker hands this worker. Default 2 × concurrency. */
  prefetch?: number;
  /** Attempts before a task is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry, ms; doubles each attempt. Default 5000. */
  retryBaseMs?: number;
  /** Longest retry delay, ms. Default 300 000. */
  retryMaxMs?: number;
  /** How long a finished task's key is remembered, ms. Default 7 days. */
  idempotencyTtlMs?: number;
}

export interface RunnerStats {
  processed: number;
  retried: number;
  deadLettered: number;
  /** Skipped because their key was already done (redeliveries, duplicates). */
  duplicates: number;
  inFlight: number;
}

/** The retry delay after failed attempt `attempt` (1-based): base · 2^(attempt−1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export class TaskRunner {
  readonly stats: RunnerStats = { processed: 0, retried: 0, deadLettered: 0, duplicates: 0, inFlight: 0 };
  readonly #o: Required<RunnerOptions>;
  readonly #waiting: Delivery[] = [];
  /** The run of each key being handled now; a second copy of the task waits for it. */
  readonly #byKey = new Map<string, Promise<void>>();
  #running = 0;
  #idle: Array<() => void> = [];
  #stopped = false;

  constructor(options: RunnerOptions) {
    const concurrency = options.concurrency ?? 8;
    this.#o = {
      ...options,
      concurrency,
      prefetch: options.prefetch ?? concurrency * 2,
      maxAttempts: options.maxAttempts ?? 5,
      retryBaseMs: options.retryBaseMs ?? 5000,
      retryMaxMs: options.retryMaxMs ?? 300_000,
      idempotencyTtlMs: options.idempotencyTtlMs ?? 7 * 24 * 3600_000,
    } as Required<RunnerOptions>;
  }

  /** Starts consuming. */
  async start(): Promise<void> {
    await this.#o.queue.consume((d) => this.#accept(d), this.#o.prefetch);
  }

  /**
   * Graceful stop: take no new deliveries, give back the ones waiting for a slot (unsettled, so
   * the broker redelivers them), and resolve once every running handler has settled its task.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#o.queue.stopConsuming();
    this.#waiting.length = 0;
    this.stats.inFlight = this.#running;
    if (this.#running > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #accept(d: Delivery): void {
    if (this.#stopped) return;
    this.#waiting.push(d);
    this.stats.inFlight++;
    this.#next();
  }

  #next(): void {
    while (this.#running < this.#o.concurrency && this.#waiting.length > 0) {
      const d = this.#waiting.shift()!;
      this.#running++;
      void this.#run(d).finally(() => {
        this.#running--;
        this.stats.inFlight--;
        if (this.#running === 0 && this.#waiting.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
        this.#next();
      });
    }
  }

  async #run(d: Delivery): Promise<void> {
    const { log } = this.#o;
    const parsed = parseTask(d.content);
    if (!parsed.ok) {
      log.warn({ attempt: d.attempt, reason: parsed.reason }, 'task malformed; dead-lettered');
      return this.#settle(d, () => d.deadLetter(`malformed: ${parsed.reason}`), 'deadLettered');
    }
    // Two copies of one task (a publish repeated after its confirm was lost, or a redelivery next to
    // the original) run one after the other, so the second finds the key done and is skipped.
    const key = parsed.task.key;
    const before = this.#byKey.get(key);
    const run = (): Promise<void> => this.#runTask(d, parsed.task);
    const mine = before ? before.then(run, run) : run();
    this.#byKey.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.#byKey.get(key) === mine) this.#byKey.delete(key);
    }
  }

  async #runTask(d: Delivery, task: Task): Promise<void> {
    const { log } = this.#o;
    const fields = { task: task.id, kind: task.kind, key: task.key, attempt: d.attempt, redelivered: d.redelivered };
    const started = Date.now();
    let outcome: Outcome;
    try {
      if (await this.#o.idempotency.has(`task:${task.key}`)) {
        log.info(fields, 'task already done; skipped');
        return this.#settle(d, () => d.ack(), 'duplicates');
      }
      outcome = await this.#handle(task, d.attempt);
    } catch (err) {
      // An unexpected throw is treated as transient: bugs surface as dead letters after the limit.
      outcome = { status: 'retry', reason: err instanceof Error ? err.message : String(err) };
      log.error({ ...fields, err }, 'task handler threw');
    }
    const ms = Date.now() - started;
    switch (outcome.status) {
      case 'done':
        await this.#o.idempotency.mark(`task:${task.key}`, this.#o.idempotencyTtlMs).catch((err: unknown) => log.warn({ ...fields, err }, 'could not record the task key'));
        log.info({ ...fields, ms, note: outcome.note }, 'task done');
        return this.#settle(d, () => d.ack(), 'processed');
      case 'failed':
        log.error({ ...fields, ms, reason: outcome.reason }, 'task failed permanently; dead-lettered');
        return this.#settle(d, () => d.deadLetter(outcome.reason), 'deadLettered');
      case 'retry': {
        if (d.attempt >= this.#o.maxAttempts) {
          const reason = `gave up after ${d.attempt} attempts: ${outcome.reason}`;
          log.error({ ...fields, ms, reason }, 'task failed too often; dead-lettered');
          return this.#settle(d, () => d.deadLetter(reason), 'deadLettered');
        }
        const delay = Math.max(outcome.afterMs ?? 0, backoffMs(d.attempt, this.#o.retryBaseMs, this.#o.retryMaxMs));
        log.warn({ ...fields, ms, reason: outcome.reason, retryInMs: delay }, 'task failed; will retry');
        return this.#settle(d, () => d.retry(delay, outcome.reason), 'retried');
      }
    }
  }

  #handle(task: Task, attempt: number): Promise<Outcome> {
    // The union's handler map is exhaustive; TypeScript cannot narrow the indexed call itself.
    const handler = this.#o.handlers[task.kind] as Handler<TaskKind>;
    return handler(task as never, { attempt });
  }

  async #settle(d: Delivery, settle: () => Promise<void>, counter: 'processed' | 'retried' | 'deadLettered' | 'duplicates'): Promise<void> {
    try {
      await settle();
      this.stats[counter]++;
    } catch (err) {
      // The broker redelivers an unsettled message; the task key keeps that from repeating effects.
      this.#o.log.error({ err }, 'could not settle a delivery; the broker will redeliver it');
    }
  }
}
