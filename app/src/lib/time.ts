/** Short, locale-aware times for the chat list and the conversation. */
const sameDay = (a: Date, b: Date) => a.toDateString() === b.toDateString();

/** "14:05" today, "Mon" this week, "12 Mar" otherwise. */
export function listTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  if (sameDay(d, n)) return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (now - ts < 6 * 86_400_000) return d.toLocaleDateString(undefined, { weekday: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export function clock(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** The day separator: "Today", "Yesterday" or a date. */
export function dayLabel(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  if (sameDay(d, new Date(now))) return 'Today';
  if (sameDay(d, new Date(now - 86_400_000))) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric' });
}

export function dayKey(ts: number): string {
  return new Date(ts).toDateString();
}

/** "last seen just now", "… 5 min ago", "… today at 14:05", "… yesterday at 14:05", "… 12 Mar". */
export function lastSeen(ts: number, now = Date.now()): string {
  const ago = Math.max(0, now - ts);
  if (ago < 60_000) return 'last seen just now';
  if (ago < 3_600_000) return `last seen ${Math.floor(ago / 60_000)} min ago`;
  const d = new Date(ts);
  if (sameDay(d, new Date(now))) return `last seen today at ${clock(ts)}`;
  if (sameDay(d, new Date(now - 86_400_000))) return `last seen yesterday at ${clock(ts)}`;
  return `last seen ${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric' })}`;
}
