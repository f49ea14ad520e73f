/**
 * The tasks the router (producer) puts on the task queue and the workers (consumer) run: one typed
 * union, validated with zod when a task is taken off the queue, so a malformed or foreign message
 * is dead-lettered instead of reaching a handler.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

const pushMessage = z.object({
  kind: z.literal('push.message'),
  /** The user to notify. */
  recipient: z.number().int().positive(),
  sender: z.object({ id: z.number().int().positive(), handle: z.string(), displayName: z.string() }),
  room: z.string().min(1).max(64),
  /** Groups only: the room's kind and name (a task without them is a 1:1 room's). */
  roomKind: z.literal('group').optional(),
  roomName: z.string().max(256).optional(),
  seq: z.number().int().positive(),
  messageId: z.string().min(1),
  /** The message body, trimmed to PREVIEW_CHARS by the producer. */
  preview: z.string(),
  /** The whole body and the message's time: the push carries them when they fit (absent from older routers). */
  body: z.string().optional(),
  ts: z.number().int().optional(),
});

const emailDigest = z.object({
  kind: z.literal('email.digest'),
  user: z.number().int().positive(),
  /** Start of the digest period (ms since epoch); one digest per user and period. */
  period: z.number().int().nonnegative(),
});

const body = z.discriminatedUnion('kind', [pushMessage, emailDigest]);

/** A task as it travels: its body plus an id and the idempotency key of its effect. */
export const taskSchema = z.intersection(
  body,
  z.object({
    id: z.string().min(1).max(64),
    /** Same key, same effect: a redelivered or re-enqueued task with a key already done is skipped. */
    key: z.string().min(1).max(200),
    createdAt: z.number().int(),
  }),
);

export type Task = z.infer<typeof taskSchema>;
export type TaskBody = z.infer<typeof body>;
export type TaskKind = Task['kind'];
export type TaskOf<K extends TaskKind> = Extract<Task, { kind: K }>;

/** Longest text preview a push task carries, in UTF-16 code units before the `…` (cut between grapheme clusters). */
export const PREVIEW_CHARS = 200;

/** Wraps a body into a task with a fresh id; `key` defaults to one derived from the body. */
export function newTask(b: TaskBody, key: string = keyOf(b)): Task {
  return { ...b, id: randomUUID(), key, createdAt: Date.now() } as Task;
}

/** The natural idempotency key of a task body. */
export function keyOf(b: TaskBody): string {
  switch (b.kind) {
    case 'push.message':
      return `push:${b.recipient}:${b.room}:${b.seq}`;
    case 'email.digest':
      return `digest:${b.user}:${b.period}`;
  }
}

/** A task from raw bytes, or a reason why it is not one (never throws). */
export function parseTask(content: Buffer | string): { ok: true; task: Task } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(typeof content === 'string' ? content : content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const r = taskSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: `not a task: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}` };
  return { ok: true, task: r.data };
}
