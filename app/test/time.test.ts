/**
 * Times as the locale writes them (lib/time.ts): 24-hour or AM/PM by locale, never a fixed pattern;
 * "Today" and "Yesterday" by calendar day; "last seen" sentences with the same times. Local times
 * are built with `new Date(y, m, d, h, min)`, so the suite holds in any time zone.
 */
import t from 'tap';
import { clock, dayKey, dayLabel, fullTime, lastSeen, listTime } from '../src/lib/time.ts';

const at = (d: number, h: number, min: number, month = 2, year = 2025) => new Date(year, month, d, h, min).getTime();
const NOW = at(12, 15, 30);

t.test('time', async (t) => {
  t.test('the time of day follows the locale', async (t) => {
    t.equal(clock(at(12, 14, 5), 'de-DE'), '14:05', 'German: 24-hour');
    t.equal(clock(at(12, 7, 5), 'de-DE'), '07:05', 'German: the hour with two digits, as German writes it');
    t.equal(clock(at(12, 14, 5), 'en-GB'), '14:05', 'British English: 24-hour');
    t.match(clock(at(12, 14, 5), 'en-US'), /^2:05\sPM$/u, 'American English: 12-hour with PM');
    t.match(clock(at(12, 7, 5), 'en-US'), /^7:05\sAM$/u, 'American English: no leading zero');
    t.match(fullTime(at(12, 14, 5), 'de-DE'), /12\. März 2025.*14:05/, 'the tooltip: the full date and the time, in German');
  });

  t.test('day separators: Today, Yesterday, then the date in the locale', async (t) => {
    t.equal(dayLabel(at(12, 0, 1), NOW, 'en-US'), 'Today', 'earlier today');
    t.equal(dayLabel(at(11, 23, 59), NOW, 'en-US'), 'Yesterday', 'a minute before midnight yesterday');
    t.equal(dayLabel(at(10, 12, 0), NOW, 'de-DE'), 'Montag, 10. März', 'two days ago in German, without this year');
    t.equal(dayLabel(at(10, 12, 0), NOW, 'en-US'), 'Monday, March 10', 'two days ago in American English');
    t.match(dayLabel(at(24, 12, 0, 11, 2024), NOW, 'en-GB'), /^Tuesday,? 24 December 2024$/, 'another year names the year');
    t.equal(dayKey(at(12, 0, 1)), dayKey(at(12, 23, 59)), 'one key for one calendar day');
    t.not(dayKey(at(11, 23, 59)), dayKey(at(12, 0, 0)), 'midnight starts another');
  });

  t.test('the chat list: the time today, the weekday this week, else the date', async (t) => {
    t.equal(listTime(at(12, 9, 41), NOW, 'de-DE'), '09:41', 'today');
    t.equal(listTime(at(10, 9, 41), NOW, 'en-US'), 'Mon', 'this week');
    t.equal(listTime(at(1, 9, 41), NOW, 'de-DE'), '1. März', 'earlier this year');
  });

  t.test('last seen', async (t) => {
    t.equal(lastSeen(NOW - 30_000, NOW), 'last seen just now', 'under a minute');
    t.equal(lastSeen(NOW - 5 * 60_000, NOW), 'last seen 5 min ago', 'minutes');
    t.equal(lastSeen(at(12, 9, 5), NOW, 'de-DE'), 'last seen today at 09:05', 'today, the time as the locale writes it');
    t.match(lastSeen(at(11, 21, 5), NOW, 'en-US'), /^last seen yesterday at 9:05\sPM$/u, 'yesterday');
    t.equal(lastSeen(at(3, 9, 5), NOW, 'en-GB'), 'last seen 3 Mar', 'earlier: the date');
  });
});
