/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The service worker: caches the app shell (every built file and static asset, and index.html as
 * the SPA fallback for navigations) so the app opens offline; shows web-push notifications unless
 * their conversation is open and visible; opens or focuses the right conversation on click. A new
 * version waits until the page asks it to take over (the update prompt, $lib/pwa.svelte.ts).
 */
import { build, files, version } from '$service-worker';
import type { PushPayload } from '$protocol/push.ts';
import { answeredRoom, pageToWorker, type WorkerToPage } from '$lib/sw.messages.ts';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `shell-${version}`;
const SHELL = '/index.html';
const ASSETS = [...build, ...files.filter((f) => !f.endsWith('.gz') && !f.endsWith('.br')), SHELL];

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('message', (event) => {
  if (pageToWorker(event.data)?.type === 'SKIP_WAITING') void sw.skipWaiting();
});

sw.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  // The API and the socket are always live; the app keeps its own offline copy of chats.
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname === '/ws') return;
  if (req.mode === 'navigate') {
    // Network first so a reload gets fresh HTML; the cached shell when offline.
    event.respondWith(fetch(req).catch(async () => (await caches.match(SHELL)) ?? Response.error()));
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith((async () => (await caches.match(url.pathname)) ?? fetch(req))());
  }
});


function parsePush(event: PushEvent): PushPayload | null {
  try {
    const data = event.data?.json() as PushPayload | undefined;
    return data && typeof data.room === 'string' ? data : null;
  } catch {
    return null;
  }
}

const roomPath = (room: string) => `/chat/${encodeURIComponent(room)}`;

/**
 * True when a visible window shows `room`. Client.url keeps the URL a page was loaded with (not
 * where client-side navigation took it), so each visible page is asked which room it shows; a
 * page that does not answer within 500 ms counts as not showing it (better a notification too many).
 */
async function roomOnScreen(room: string): Promise<boolean> {
  const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const answers = windows
    .filter((c) => c.visibilityState === 'visible')
    .map(
      (c) =>
        new Promise<boolean>((resolve) => {
          const channel = new MessageChannel();
          const timer = setTimeout(() => resolve(false), 500);
          channel.port1.onmessage = (e) => {
            clearTimeout(timer);
            resolve(answeredRoom(e.data) === room);
          };
          c.postMessage({ type: 'which-room' } satisfies WorkerToPage, [channel.port2]);
        }),
    );
  return (await Promise.all(answers)).some(Boolean);
}

/** "Alice", or "Alice in Climbing" for a group; with the count of unread entries when the newer replaces several. */
function notificationTitle(p: PushPayload): string {
  const sender = p.sender.displayName || p.sender.handle;
  const title = p.kind === 'group' && p.roomName ? `${sender} in ${p.roomName}` : sender;
  return p.count !== undefined && p.count > 1 ? `${title} (${p.count} new)` : title;
}

sw.addEventListener('push', (event) => {
  const payload = parsePush(event);
  event.waitUntil(
    (async () => {
      if (payload) {
        if (await roomOnScreen(payload.room)) return; // the message shows there
      }
      // Notification text is plain text by definition (never HTML).
      const title = payload ? notificationTitle(payload) : 'Messenger';
      const body = payload ? payload.preview : 'You have a new message';
      await sw.registration.showNotification(title, {
        body,
        tag: payload ? `room:${payload.room}` : 'messenger',
        icon: '/icons/icon-192.png',
        badge: '/icons/badge-96.png',
        // The room and seq let the app take the notification back when the message is deleted for everyone.
        data: payload ? { url: roomPath(payload.room), room: payload.room, seq: payload.seq } : { url: '/' },
      });
    })(),
  );
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL((event.notification.data as { url?: string } | null)?.url ?? '/', location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const existing = windows.find((c) => c.url === url) ?? windows[0];
      if (existing) {
        const focused = await existing.focus();
        if (focused.url !== url) await focused.navigate(url).catch(() => focused.postMessage({ type: 'open', url } satisfies WorkerToPage));
        return;
      }
      await sw.clients.openWindow(url);
    })(),
  );
});
