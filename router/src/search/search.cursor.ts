/**
 * The paging cursor of GET /api/search: opaque to the client (base64url of JSON), it holds where
 * the last page ended (ts, room, seq) and a tag binding it to the query's words and room filter,
 * so a cursor passed with another query, or altered, is refused (`invalid_cursor`) instead of
 * silently paging something else. The tag is a hash, not a signature: a client who rebuilds one
 * can only move its own position within its own scope, which the scope still bounds.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../../protocol/app-error.ts';
import type { SearchKey } from '../../../db/search.port.ts';

/** Longest cursor accepted: far above any this module makes (about 150 characters). */
const CURSOR_MAX = 512;
const ROOM_ID = /^[0-9A-Za-z_-]{1,64}$/;

/** What a cursor is bound to: the normalised words and the room filter of its query. */
export interface CursorBinding {
  words: readonly string[];
  room?: string;
}

function tagOf(binding: CursorBinding, key: SearchKey): string {
  const text = JSON.stringify([binding.words, binding.room ?? null, key.ts, key.room, key.seq]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** The cursor that continues after `key` for this query. */
export function encodeCursor(binding: CursorBinding, key: SearchKey): string {
  return Buffer.from(JSON.stringify([key.ts, key.room, key.seq, tagOf(binding, key)])).toString('base64url');
}

/** The position a cursor holds, when it was made for this query; throws `invalid_cursor` otherwise. */
export function decodeCursor(binding: CursorBinding, cursor: unknown): SearchKey {
  if (typeof cursor !== 'string' || cursor.length > CURSOR_MAX || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new AppError('invalid_cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('invalid_cursor');
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw new AppError('invalid_cursor');
  const [ts, room, seq, tag] = parsed as unknown[];
  const valid =
    Number.isSafeInteger(ts) && (ts as number) >= 0 &&
    typeof room === 'string' && ROOM_ID.test(room) &&
    Number.isSafeInteger(seq) && (seq as number) >= 1 &&
    typeof tag === 'string';
  if (!valid) throw new AppError('invalid_cursor');
  const key = { ts: ts as number, room: room as string, seq: seq as number };
  if (tag !== tagOf(binding, key)) throw new AppError('invalid_cursor');
  return key;
}
