/**
 * The messages between the pages and the service worker (postMessage), one union per direction,
 * read back through the guards below: postMessage data is whatever the other side sent, and a page
 * may run with an older or newer worker than its own build.
 */

/** Page → worker. `SKIP_WAITING` is what workbox-window's messageSkipWaiting() posts (the update prompt). */
export type PageToWorker = { type: 'SKIP_WAITING' };

/** Worker → page. */
export type WorkerToPage =
  /** Before showing a push: which room is on screen? Answered with a WhichRoomAnswer on the port sent along. */
  | { type: 'which-room' }
  /** After a notification click, when the worker could not navigate the window itself: open `url` (absolute). */
  | { type: 'open'; url: string };

/** The page's answer to `which-room`: the room on screen, or null when none is (or the page is hidden). */
export interface WhichRoomAnswer {
  room: string | null;
}

function typed(data: unknown): { type?: unknown; url?: unknown; room?: unknown } | null {
  return typeof data === 'object' && data !== null ? (data as { type?: unknown }) : null;
}

/** A message a page sent the worker, or null for anything else. */
export function pageToWorker(data: unknown): PageToWorker | null {
  return typed(data)?.type === 'SKIP_WAITING' ? { type: 'SKIP_WAITING' } : null;
}

/** A message the worker sent a page, or null for anything else. */
export function workerToPage(data: unknown): WorkerToPage | null {
  const m = typed(data);
  if (m?.type === 'which-room') return { type: 'which-room' };
  if (m?.type === 'open' && typeof m.url === 'string') return { type: 'open', url: m.url };
  return null;
}

/** The room in a page's answer to `which-room` (null when there is none or the answer is not one). */
export function answeredRoom(data: unknown): string | null {
  const room = typed(data)?.room;
  return typeof room === 'string' ? room : null;
}
