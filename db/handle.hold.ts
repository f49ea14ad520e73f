/**
 * The handle of a deleted account stays held for a grace period (DELETED_HANDLE_GRACE_MS), so
 * nobody can take it at once and pass for its former owner in the chats of people who knew them.
 * There is no sweep: the sign-up that wants the handle after the grace frees it, in the
 * transaction that takes it, so the handle is free exactly when the grace ends on the clock given.
 */
import type { Knex } from 'knex';
import { systemScheduler, type Clock } from './clock.ts';

export interface HandleHold {
  /** How long after its account's deletion a handle stays held, ms. */
  graceMs: number;
  /** The time the grace is measured on. */
  clock: Clock;
}

/** 30 days, on the real clock. */
export const DEFAULT_HANDLE_HOLD: HandleHold = Object.freeze({ graceMs: 30 * 24 * 3600_000, clock: systemScheduler });

/** When a handle deleted at `deletedAt` (ms) becomes free. */
export function handleFreeAt(deletedAt: number, hold: HandleHold): number {
  return deletedAt + hold.graceMs;
}

/** Frees `handle` (lower-case) if a deleted account held it past its grace; run in the transaction that takes it. */
export async function releaseExpiredHandle(db: Knex | Knex.Transaction, handle: string, hold: HandleHold): Promise<void> {
  await db('users')
    .where({ handle })
    .whereNotNull('deleted_at')
    .andWhere('deleted_at', '<=', new Date(hold.clock.now() - hold.graceMs))
    .update({ handle: null });
}

/** True when `handle` (lower-case) is someone's: a live account's, or a deleted one's within its grace. */
export async function isHandleHeld(db: Knex, handle: string, hold: HandleHold): Promise<boolean> {
  const row: { deleted_at: Date | string | null } | undefined = await db('users').first('deleted_at').where({ handle });
  if (!row) return false;
  return row.deleted_at === null || new Date(row.deleted_at).getTime() > hold.clock.now() - hold.graceMs;
}
