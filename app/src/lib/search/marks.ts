/**
 * A search snippet as parts to render: plain text and marked matches, cut from the snippet's text by
 * its [start, end) offsets, so the page builds <mark> elements from text (never HTML). Offsets come
 * from the network: out-of-range, empty, unordered or overlapping ones are clamped or merged, never
 * trusted to be tidy.
 */
export interface SnippetPart {
  text: string;
  mark: boolean;
}

export function snippetParts(text: string, marks: ReadonlyArray<readonly [number, number]>): SnippetPart[] {
  const clamp = (n: number) => Math.max(0, Math.min(text.length, Number.isFinite(n) ? Math.trunc(n) : 0));
  const spans = marks
    .map(([s, e]) => [clamp(s), clamp(e)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  const parts: SnippetPart[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    if (e <= at) continue;
    const start = Math.max(s, at);
    if (start > at) parts.push({ text: text.slice(at, start), mark: false });
    const last = parts.at(-1);
    // Touching or overlapping spans read as one mark.
    if (last?.mark && start === at) last.text += text.slice(start, e);
    else parts.push({ text: text.slice(start, e), mark: true });
    at = e;
  }
  if (at < text.length) parts.push({ text: text.slice(at), mark: false });
  return parts;
}
