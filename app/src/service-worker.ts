/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The service worker: caches the app shell (every built file and static asset, and index.html as
 * the SPA fallback for navigations) so the app opens offline; stores a pushed message in the
 * device's IndexedDB (the app's own schema, $lib/chat/offline.db.ts) and reports it delivered;
 * shows the notification unless its conversation is open and visible or the device had that seq
 * already; answers its actions (reply through the outbox, mark as read); opens or focuses the
 * right conversation on click; sends the outbox when Background Sync fires. A new version waits
 * until the page asks it to take over (the update prompt, $lib/pwa.svelte.ts).
 */
import { build, files, version } from '$service-worker';
import type { PushPayload } from '$protocol/push.ts';
import { answeredRoom, pageToWorker, type WorkerToPage } from '$lib/sw.messages.ts';
import { flushOutbox, postReceipt } from '$lib/chat/background.ts';
import { appendOutbox, markNotified, signedIn, takePush, type PushOutcome } from '$lib/chat/offline.db.ts';
import { outboxItem } from '$lib/chat/outbox.ts';

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

/** What a notification keeps for its click and its actions. */
interface NoticeData {
  url: string;
  room?: string;
  seq?: number;
  /** The sender, who a 1:1 reply goes to; absent in a group (a reply goes to the room). */
  to?: number;
  /** The user signed in here when it was shown. */
  user?: number | null;
}

const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
/** The Background Sync tag under which the outbox waits for a connection. */
const OUTBOX_SYNC = 'outbox';

sw.addEventListener('push', (event) => {
  const payload = parsePush(event);
  event.waitUntil(
    (async () => {
      let outcome: PushOutcome = { shown: true, stored: false, user: null };
      if (payload) {
        outcome = await takePush(payload).catch(() => outcome);
        // The device has it now: the sender sees two ticks (a device receipt, not a read one).
        if (outcome.stored) await postReceipt('delivered', payload.room, payload.seq);
        if (!outcome.shown) return; // this device has that seq already, or showed it
        if (await roomOnScreen(payload.room)) return; // the message shows there
      }
      // Notification text is plain text by definition (never HTML).
      const title = payload ? notificationTitle(payload) : 'Messenger';
      const body = payload ? payload.preview : 'You have a new message';
      const data: NoticeData = payload
        ? { url: roomPath(payload.room), room: payload.room, seq: payload.seq, ...(payload.kind === 'group' ? {} : { to: payload.sender.id }), user: outcome.user }
        : { url: '/' };
      await sw.registration.showNotification(title, {
        body,
        tag: payload ? `room:${payload.room}` : 'messenger',
        icon: '/icons/icon-192.png',
        badge: '/icons/badge-96.png',
        // The room and seq let the app take the notification back when the message is deleted for everyone.
        data,
        // `type: 'text'` gives a reply field where the browser has one (Chromium); elsewhere the button opens the chat.
        ...(payload && outcome.user !== null
          ? { actions: [{ action: 'reply', title: 'Reply', type: 'text', placeholder: 'Message' }, { action: 'read', title: 'Mark as read' }] }
          : {}),
      } as NotificationOptions);
      if (payload && outcome.user !== null) await markNotified(outcome.user, payload.room, payload.seq).catch(() => undefined);
    })(),
  );
});

/** A reply typed in a notification: into the outbox (a fresh clientMsgId), then out now or at the next sync. */
async function reply(data: NoticeData, text: string): Promise<boolean> {
  if (!data.room || !data.user) return false;
  const item = outboxItem(data.room, data.to, text, crypto.randomUUID(), Date.now());
  if (!item) return false;
  await appendOutbox(data.user, item);
  if ((await flushOutbox(data.user, WS_URL)) > 0) await registerSync();
  return true;
}

async function registerSync(): Promise<void> {
  const sync = (sw.registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }).sync;
  await sync?.register(OUTBOX_SYNC).catch(() => undefined);
}

sw.addEventListener('notificationclick', (event) => {
  const data = (event.notification.data ?? { url: '/' }) as NoticeData;
  const action = event.action;
  const text = (event as NotificationEvent & { reply?: string | null }).reply;
  if (action === 'read' && data.room && data.seq) {
    event.notification.close();
    event.waitUntil(postReceipt('read', data.room, data.seq));
    return;
  }
  // Where the browser has no text field the Reply button opens the conversation instead.
  if (action === 'reply' && text) {
    event.notification.close();
    event.waitUntil(reply(data, text));
    return;
  }
  event.notification.close();
  const url = new URL(data.url ?? '/', location.origin).href;
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

/** Background Sync (and Periodic Background Sync): the outbox goes out without the app open. */
async function catchUp(): Promise<void> {
  const user = await signedIn();
  if (user !== null && (await flushOutbox(user, WS_URL)) > 0) throw new Error('the outbox is not empty yet'); // the browser retries the sync
}

sw.addEventListener('sync', ((event: ExtendableEvent & { tag: string }) => {
  if (event.tag === OUTBOX_SYNC) event.waitUntil(catchUp());
}) as EventListener);

sw.addEventListener('periodicsync', ((event: ExtendableEvent & { tag: string }) => {
  if (event.tag === 'catch-up') event.waitUntil(catchUp().catch(() => undefined));
}) as EventListener);
