/**
 * The pure rules of attachments on screen: how a bubble's photos are laid out in rows, how big a
 * lone photo is drawn (from the width and height the message carries, before any byte arrives),
 * sizes in words and the progress of several uploads as one figure. Tested in app/test/attach.layout.test.ts.
 */

/** How many photos each row of a bubble's grid holds, top to bottom: at most 3 a row, the odd ones on top (bigger). */
export function gridRows(count: number): number[] {
  if (count <= 0) return [];
  if (count <= 2) return [count];
  if (count === 3) return [1, 2];
  const rows = Array.from({ length: Math.floor(count / 3) }, () => 3);
  return count % 3 === 0 ? rows : [count % 3, ...rows];
}

/** Splits `items` into the rows of `gridRows(items.length)`, in order. */
export function gridOf<T>(items: readonly T[]): T[][] {
  let at = 0;
  return gridRows(items.length).map((n) => items.slice(at, (at += n)));
}

/** A lone photo's box: its own shape, within `maxW` × `maxH`, never thinner than `min` (then cropped). */
export function photoBox(width: number, height: number, maxW: number, maxH: number, min = 96): { width: number; height: number } {
  if (!(width > 0 && height > 0)) return { width: maxW, height: Math.round(maxW * 0.75) };
  const scale = Math.min(1, maxW / width, maxH / height);
  return { width: Math.max(min, Math.round(width * scale)), height: Math.max(min, Math.round(height * scale)) };
}

const UNITS = ['KB', 'MB', 'GB'];

/** A file size as people read it: "512 B", "14 KB", "3.4 MB" (1 KB = 1024 bytes, as file managers count). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value)} ${UNITS[unit]}`;
}

/** A file's type in a word for its card: "PDF", "ZIP", else the name's extension ("MP3"), else "File". */
export function typeLabel(type: string, name: string): string {
  const known: Record<string, string> = { 'application/pdf': 'PDF', 'application/zip': 'ZIP' };
  return known[type] ?? /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toUpperCase() ?? 'File';
}

/** One upload's progress: bytes sent of its size. */
export interface Progress {
  loaded: number;
  total: number;
}

/** Several uploads as one fraction (0..1), weighted by size: what the send button's ring shows. */
export function overallProgress(items: readonly Progress[]): number {
  let loaded = 0;
  let total = 0;
  for (const p of items) {
    total += p.total;
    loaded += Math.min(p.loaded, p.total);
  }
  return total === 0 ? 1 : loaded / total;
}
