/**
 * localStorage as the app uses it: JSON values that read back as a fallback when missing or
 * unreadable, and writes that never throw (the cache is an optimisation, the outbox best effort).
 * Only the signed-in user lives here (read synchronously, so the app paints before any request);
 * the chat is in IndexedDB (chat/offline.db.ts), which moves an older localStorage cache over.
 */
import type { User } from './api.ts';

/** The value stored under `key`, or `fallback` when there is none or it does not parse. */
export function readStored<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function writeStored(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* quota or private mode: the cache is an optimisation, the outbox best effort */
  }
}

export function removeStored(key: string): void {
  localStorage.removeItem(key);
}

export const storage = {
  me: () => readStored<User | null>('me', null),
  setMe: (user: User | null) => (user ? writeStored('me', user) : removeStored('me')),
};
