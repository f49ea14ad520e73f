/**
 * Short, locale-aware times for the chat list and the conversation, through `Intl.DateTimeFormat`:
 * the locale decides 24-hour or AM/PM and the order of day and month ("14:05", "2:05 PM"). The
 * sentences around them ("Today", "last seen …") are the app's English. `locale` defaults to the
 * browser's (tests pass one); formatters are built once per locale and options, as building one is
 * far slower than using it and a conversation formats hundreds of times.
 */
type Locale = string | undefined;

const formatters = new Map<string, Intl.DateTimeFormat>();

function format(ts: number, locale: Locale, options: Intl.DateTimeFormatOptions): string {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f.format(ts);
}

const sameDay = (a: Date, b: Date) => a.toDateString() === b.toDateString();
/** The same hour and minute a day earlier (not 24 h earlier: a day around a clock change is 23 or 25 h). */
const dayBefore = (now: number) => {
  const d = new Date(now);
  d.setDate(d.getDate() - 1);
  return d;
};
/** The locale's own short time: "7:05 AM" in en-US, "07:05" in de-DE or en-GB (never a fixed pattern). */
const TIME: Intl.DateTimeFormatOptions = { timeStyle: 'short' };

/** The time of day of `ts`: "14:05", "2:05 PM". */
export function clock(ts: number, locale?: Locale): string {
  return format(ts, locale, TIME);
}

/** The full date and time, for a tooltip: "Wednesday, 12 March 2025 at 14:05". */
export function fullTime(ts: number, locale?: Locale): string {
  return format(ts, locale, { dateStyle: 'full', timeStyle: 'short' });
}

/** The chat list's time: the time today, the weekday this week ("Mon"), else the date ("12 Mar"). */
export function listTime(ts: number, now = Date.now(), locale?: Locale): string {
  const d = new Date(ts);
  if (sameDay(d, new Date(now))) return clock(ts, locale);
  if (now - ts < 6 * 86_400_000) return format(ts, locale, { weekday: 'short' });
  const year = d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric';
  return format(ts, locale, { day: 'numeric', month: 'short', year });
}

/** The day separator: "Today", "Yesterday", or the date ("Wednesday, 12 March"; with the year if not this one). */
export function dayLabel(ts: number, now = Date.now(), locale?: Locale): string {
  const d = new Date(ts);
  if (sameDay(d, new Date(now))) return 'Today';
  if (sameDay(d, dayBefore(now))) return 'Yesterday';
  const year = d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric';
  return format(ts, locale, { weekday: 'long', day: 'numeric', month: 'long', year });
}

/** The calendar day of `ts` in local time, as a key (messages of one day share it). */
export function dayKey(ts: number): string {
  return new Date(ts).toDateString();
}

/** "last seen just now", "… 5 min ago", "… today at 14:05", "… yesterday at 2:05 PM", "… 12 Mar". */
export function lastSeen(ts: number, now = Date.now(), locale?: Locale): string {
  const ago = Math.max(0, now - ts);
  if (ago < 60_000) return 'last seen just now';
  if (ago < 3_600_000) return `last seen ${Math.floor(ago / 60_000)} min ago`;
  const d = new Date(ts);
  if (sameDay(d, new Date(now))) return `last seen today at ${clock(ts, locale)}`;
  if (sameDay(d, dayBefore(now))) return `last seen yesterday at ${clock(ts, locale)}`;
  const year = d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric';
  return `last seen ${format(ts, locale, { day: 'numeric', month: 'short', year })}`;
}
