/**
 * The people this user blocked (docs/protocol.md, "Blocking"), as the screens read them: the chat
 * (no composer for someone blocked), their info screen and settings. The server enforces blocks;
 * this list only says what to show. Loaded once per session, changed by the answers it gets.
 */
import type { BlockJson } from '$protocol/http.ts';
import type { PublicUser } from '$protocol/frames.ts';
import { api } from './api.ts';

class Blocks {
  /** Newest first, as the server lists them. */
  list = $state<BlockJson[]>([]);
  /** True once the server's list came. */
  loaded = $state(false);
  #loading: Promise<void> | null = null;

  /** Loads the list unless it is loaded or loading; rejects (and may be asked again) when it cannot. */
  load(): Promise<void> {
    this.#loading ??= api.blocks().then(
      ({ blocks }) => {
        this.list = blocks;
        this.loaded = true;
      },
      (err: unknown) => {
        this.#loading = null;
        throw err;
      },
    );
    return this.#loading;
  }

  has(user: number | undefined): boolean {
    return user !== undefined && this.list.some((b) => b.user.id === user);
  }

  async block(user: PublicUser): Promise<void> {
    const block = await api.block(user.id);
    this.list = [block, ...this.list.filter((b) => b.user.id !== user.id)];
  }

  async unblock(user: number): Promise<void> {
    await api.unblock(user);
    this.list = this.list.filter((b) => b.user.id !== user);
  }

  /** Forgets the list (sign-out). */
  clear(): void {
    this.list = [];
    this.loaded = false;
    this.#loading = null;
  }
}

export const blocks = new Blocks();
