/**
 * Splits message text into plain parts and http(s) links, so links render as <a> elements built by
 * Svelte (escaped text, never HTML). Any other scheme (javascript:, data:, …) stays plain text.
 */
export type Part = { text: string; href?: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;

export function linkify(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index ?? 0;
    let href: string | undefined;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') href = parsed.href;
    } catch {
      href = undefined;
    }
    if (!href) continue;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: url, href });
    last = start + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
