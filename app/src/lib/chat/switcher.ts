/**
 * The quick switcher's type-ahead: which chats match what was typed, best first. A name that starts
 * with it beats a word of the name that does, which beats a handle that does, which beats either
 * containing it; ties keep the list's order (newest first). Case and accents do not matter, nor a
 * leading "@".
 */
import type { ChatRow } from './rows.ts';

/** Lower case without accents ("Zoë" matches "zoe"). */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase();
}

function rank(row: Pick<ChatRow, 'name' | 'handle'>, q: string): number {
  const name = fold(row.name);
  const handle = fold(row.handle);
  if (name.startsWith(q)) return 0;
  if (name.split(/\s+/).some((w) => w.startsWith(q))) return 1;
  if (handle.startsWith(q)) return 2;
  if (name.includes(q) || handle.includes(q)) return 3;
  return -1;
}

/** The rows matching `query`, best first; every row for a blank query. */
export function matchChats<R extends Pick<ChatRow, 'name' | 'handle'>>(rows: readonly R[], query: string): R[] {
  const q = fold(query.trim().replace(/^@/, ''));
  if (!q) return [...rows];
  return rows
    .map((row, i) => ({ row, i, r: rank(row, q) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.row);
}
