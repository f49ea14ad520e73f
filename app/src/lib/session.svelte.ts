/**
 * Who is signed in: asks the router (GET /api/me); offline, it trusts the cached user so the app
 * opens with the cached chats. Starting a session starts the chat store (and its socket).
 */
import { api, ApiError, type User } from './api.ts';
import { blocks } from './blocks.svelte.ts';
import { restoreAttachDrafts } from './attach/uploads.svelte.ts';
import { chat } from './chat/store.svelte.ts';
import { disablePush } from './push.ts';
import { storage } from './storage.ts';

class Session {
  /** undefined while loading; null when signed out. */
  user = $state<User | null | undefined>(undefined);

  /**
   * The user cached on this device starts the app at once (its chats paint from IndexedDB before
   * any request); the router then confirms who is signed in, or ends it.
   */
  async load(): Promise<void> {
    const cached = storage.me();
    if (cached) this.begin(cached);
    try {
      const { user } = await api.me();
      this.begin(user);
    } catch (err) {
      const ended = err instanceof ApiError && (err.status === 401 || err.status === 410);
      // Offline or a passing server error: the cached user goes on; only a refused session ends it.
      if (cached && !ended) return;
      if (cached) return this.ended();
      this.user = null;
    }
  }

  begin(user: User): void {
    if (this.user?.id !== user.id) blocks.clear();
    this.user = user;
    chat.start(user);
    void restoreAttachDrafts(user.id);
    // A new name given on another device shows here too (settings, the chats' header).
    chat.onMyProfile = (me) => (this.user = me);
  }

  /** Signs out here (and everywhere when asked): push subscription removed, local data forgotten. */
  async signOut(everywhere = false): Promise<void> {
    await disablePush().catch(() => undefined);
    if (everywhere) await api.signOutEverywhere();
    else await api.signOut().catch(() => undefined);
    chat.forget();
    blocks.clear();
    this.user = null;
  }

  /**
   * Deletes the account (`handle` typed again to confirm): this device's push subscription goes
   * first, while the session still may; then the server erases the account and local data is forgotten.
   */
  async deleteAccount(handle: string): Promise<void> {
    await disablePush().catch(() => undefined);
    await api.deleteAccount(handle);
    chat.forget();
    this.user = null;
  }

  /** The server ended this session (another device signed out everywhere, or it expired). */
  ended(): void {
    chat.forget();
    blocks.clear();
    this.user = null;
  }
}

export const session = new Session();
