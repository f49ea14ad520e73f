/**
 * What a search word is, in one place: the router parses a query with it, the stores index and
 * match with it (MongoDB keeps each message's words; PostgreSQL's index splits text the same way,
 * see db/migrations/008_search.ts), and the router marks matches in snippets with it. The app may
 * use it to highlight matches in a conversation. Pure; imports nothing.
 */
import { LIMITS } from './limits.ts';

/** Most words of a query that count; the rest are ignored (each one narrows an AND further anyway). */
export const SEARCH_WORDS_MAX = 8;

/**
 * A word: letters and decimal digits of any script, with the combining marks written inside it
 * (Devanagari vowel signs and viramas, Thai vowels, decomposed accents), so a word is not cut
 * apart where PostgreSQL's text parser keeps it whole. Everything else separates words: spaces,
 * punctuation, symbols, emoji, and so every query operator (`&|!:*()`, `$`, regex metacharacters).
 * Superscripts and fractions (\p{No}) are not digits here, as they are not for PostgreSQL.
 */
const WORD = /[\p{L}\p{Nd}][\p{L}\p{Nd}\p{M}]*/gu;

/** A word as it is compared: NFC, lower case. */
export function normalizeWord(word: string): string {
  return word.normalize('NFC').toLowerCase();
}

/** The words of a text, in order, normalised (duplicates kept). */
export function searchWords(text: string): string[] {
  return [...text.normalize('NFC').matchAll(WORD)].map((m) => normalizeWord(m[0]));
}

/**
 * A query's words, or null when it has none to search for or is longer than
 * `LIMITS.searchQueryMax`: the first SEARCH_WORDS_MAX words, in order. Every word must match a
 * word of a message, and the last one also matches as a prefix ("mess" finds "message").
 */
export function parseSearchQuery(q: string): string[] | null {
  if (q.length > LIMITS.searchQueryMax) return null;
  const words = searchWords(q).slice(0, SEARCH_WORDS_MAX);
  return words.length > 0 ? words : null;
}

/** A snippet: plain text and the [start, end) offsets (UTF-16) of every match in it. */
export interface Snippet {
  text: string;
  marks: Array<[number, number]>;
}

/** Code units of a snippet's text, ellipses not counted. */
export const SNIPPET_LENGTH = 120;
/** Code units a snippet shows before its first match, when the body is longer than a snippet. */
const SNIPPET_LEAD = 30;
const ELLIPSIS = '…';

/**
 * A window of about SNIPPET_LENGTH code units of `body` around its first match of `words` (the
 * last one as a prefix too), with every match in it marked. Cut ends get an ellipsis; line breaks
 * and tabs become spaces (one for one, so offsets hold). A body without a match (an index that
 * splits a word differently) gives its start, unmarked.
 */
export function searchSnippet(body: string, words: readonly string[]): Snippet {
  const exact = new Set(words);
  const prefix = words.at(-1) ?? '';
  const found: Array<[number, number]> = [];
  for (const m of body.matchAll(WORD)) {
    const word = normalizeWord(m[0]);
    if (exact.has(word) || (prefix !== '' && word.startsWith(prefix))) found.push([m.index, m.index + m[0].length]);
  }
  let start = 0;
  if (body.length > SNIPPET_LENGTH && found.length > 0) {
    start = Math.max(0, Math.min(found[0]![0] - SNIPPET_LEAD, body.length - SNIPPET_LENGTH));
    // Start at the beginning of a word when one begins shortly after the cut.
    const space = body.slice(start, found[0]![0]).search(/\s\S/u);
    if (start > 0 && space >= 0 && space < SNIPPET_LEAD / 2) start += space + 1;
  }
  let end = Math.min(body.length, start + SNIPPET_LENGTH);
  // Never split a surrogate pair at either end.
  if (start > 0 && isLowSurrogate(body.charCodeAt(start))) start++;
  if (end < body.length && isLowSurrogate(body.charCodeAt(end))) end--;
  const lead = start > 0 ? ELLIPSIS : '';
  const text = lead + body.slice(start, end).replace(/[\r\n\t]/g, ' ') + (end < body.length ? ELLIPSIS : '');
  const shift = lead.length - start;
  const marks: Array<[number, number]> = [];
  for (const [s, e] of found) {
    if (e <= start || s >= end) continue;
    marks.push([Math.max(s, start) + shift, Math.min(e, end) + shift]);
  }
  return { text, marks };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
