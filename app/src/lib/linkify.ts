/**
 * Splits message text into plain parts and links, so links render as <a> elements built by Svelte
 * (escaped text, never HTML). Linked: http(s):// URLs, `www.` addresses, and bare domains followed
 * by a path (`example.com/menu`); the last two open as https. Any other scheme (javascript:,
 * data:, …) stays plain text, as does a bare domain without a path ("see you at example.com" is
 * more often a name than a link) and anything after an `@` (an e-mail address).
 */
export type Part = { text: string; href?: string };

/** Characters a link runs through: anything but white space, angle brackets and quotes. */
const RUN = String.raw`[^\s<>"'\u00a0]`;
/** A domain name of labels and a top-level domain of letters (so "1.5/2" or "v2.0/x" are not links). */
const DOMAIN = String.raw`(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}`;
/** Not right after a word, an `@`, a dot, a slash or a dash: not inside an address, a path or another word. */
const ALONE = String.raw`(?<![\w@./-])`;
const LINK_RE = new RegExp(String.raw`\bhttps?:\/\/${RUN}+|${ALONE}www\.${RUN}+|${ALONE}${DOMAIN}\/${RUN}*`, 'gi');

/** Trailing characters that end a sentence rather than a link. */
const TRAILING = /[.,;:!?*]+$/;

/** Drops the punctuation a sentence puts after a link, and a closing bracket the link did not open. */
function trim(raw: string): string {
  let url = raw;
  for (;;) {
    const before = url;
    url = url.replace(TRAILING, '');
    for (const [open, close] of [['(', ')'], ['[', ']']] as const) {
      if (url.endsWith(close) && count(url, open) < count(url, close)) url = url.slice(0, -1);
    }
    if (url === before) return url;
  }
}

const count = (s: string, c: string) => s.split(c).length - 1;

/** The address a link opens: http(s) only, with a host that has a dot; undefined when it is not one. */
function hrefOf(text: string): string | undefined {
  const withScheme = /^https?:\/\//i.test(text) ? text : `https://${text}`;
  try {
    const url = new URL(withScheme);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (!/\.[a-z]{2,24}$/i.test(url.hostname) && !/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) && url.hostname !== 'localhost') return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

/** The parts of `text`, in order; their texts joined give `text` back. */
export function linkify(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(LINK_RE)) {
    const url = trim(match[0]);
    const start = match.index;
    const href = url.length > 0 ? hrefOf(url) : undefined;
    if (!href) continue;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: url, href });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
