/**
 * Web push, client side: permission is asked only from a user gesture (the settings switch); the
 * subscription uses the router's VAPID key and is stored on the router; sign-out removes it.
 */
import { api } from './api.ts';

export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.ready;
}

/** True when this browser holds a push subscription. */
export async function pushEnabled(): Promise<boolean> {
  if (!pushSupported() || Notification.permission !== 'granted') return false;
  return Boolean(await (await registration()).pushManager.getSubscription());
}

/**
 * How long turning notifications on or off may take. Without a reachable push service the browser's
 * subscribe never settles (a network without Google's push servers, some privacy browsers), and the
 * settings screen must say so instead of waiting for ever.
 */
export const PUSH_SWITCH_TIMEOUT_MS = 20_000;

/** `work`, or a rejection saying the push service did not answer once `ms` have passed. */
export function withinPushTimeout<T>(work: Promise<T>, ms = PUSH_SWITCH_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('The browser’s push service did not answer. Check the connection and try again.')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Asks for permission (call from a click), subscribes and sends the subscription to the router. */
export async function enablePush(): Promise<void> {
  if (!pushSupported()) throw new Error('This browser cannot show push notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser settings.');
  const { publicKey } = await api.vapidKey();
  const reg = await registration();
  const sub = (await reg.pushManager.getSubscription()) ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }));
  await api.addPushSubscription(sub.toJSON());
}

/** Removes the subscription here and on the router (sign-out, or the switch turned off). */
export async function disablePush(): Promise<void> {
  if (!pushSupported()) return;
  const sub = await (await registration()).pushManager.getSubscription();
  if (!sub) return;
  await api.removePushSubscription(sub.endpoint).catch(() => undefined);
  await sub.unsubscribe().catch(() => undefined);
}

/**
 * Takes back the notification of a message deleted for everyone, if it is the one shown for its room
 * (one per room: a newer message replaced it otherwise). Its text must not stay on the lock screen.
 */
export async function withdrawNotification(room: string, seq: number): Promise<void> {
  if (!pushSupported()) return;
  const reg = await navigator.serviceWorker.getRegistration();
  for (const n of (await reg?.getNotifications({ tag: `room:${room}` })) ?? []) {
    const data = n.data as { room?: string; seq?: number } | null;
    if (data?.room === room && data.seq === seq) n.close();
  }
}

type SyncRegistration = ServiceWorkerRegistration & {
  sync?: { register(tag: string): Promise<void> };
  periodicSync?: { register(tag: string, options: { minInterval: number }): Promise<void> };
};

/**
 * Asks the browser to send the outbox once a connection is back, even with the app closed
 * (Background Sync; the service worker's `sync` event). Where there is none, the app sends it when
 * it next connects, as before.
 */
export async function requestOutboxSync(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const reg = (await navigator.serviceWorker.getRegistration()) as SyncRegistration | undefined;
  await reg?.sync?.register('outbox').catch(() => undefined);
}

/** Periodic Background Sync, where the browser grants it (an installed app): the outbox goes out about twice a day. */
export async function requestPeriodicCatchUp(): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const reg = (await navigator.serviceWorker.getRegistration()) as SyncRegistration | undefined;
  await reg?.periodicSync?.register('catch-up', { minInterval: 12 * 3600_000 }).catch(() => undefined);
}
