/**
 * Jumping to a message by seq: a search result, a match in the conversation's search bar, the
 * original of a reply. `revealMessage` loads earlier history until the message is held and marks it
 * as the one to show; the conversation's scroller (with the `showsRevealed` attachment) scrolls it
 * into view, and its row reads `revealed.is(room, seq)` to highlight it.
 */
import type { Attachment } from 'svelte/attachments';
import { tick, untrack } from 'svelte';
import { chat } from './store.svelte.ts';

class Revealed {
  room = $state('');
  seq = $state(0);
  /** Counts reveals, so showing the same message again scrolls to it again. */
  count = $state(0);

  /** True for the message to highlight. */
  is(room: string, seq: number | undefined): boolean {
    return this.count > 0 && this.room === room && this.seq === seq;
  }

  clear(): void {
    this.room = '';
    this.seq = 0;
  }
}

/** Counts calls of revealMessage. */
let asked = 0;

/** The message last revealed (highlighted until another is, or `clear`). */
export const revealed = new Revealed();

/**
 * Shows message `seq` of `room` in its open conversation: loads earlier pages until it is held, then
 * scrolls to it and highlights it. Resolves false (and changes nothing) when it cannot be shown:
 * offline, deleted, or before this user joined.
 */
export async function revealMessage(room: string, seq: number): Promise<boolean> {
  const ask = ++asked;
  const held = await chat.reveal(room, seq);
  // A later reveal that finished first wins: a slow one (many pages back) does not move the view after it.
  if (held && ask === asked) {
    revealed.room = room;
    revealed.seq = seq;
    revealed.count++;
  }
  return held;
}

/**
 * For the conversation's scroller, whose message rows carry `data-seq`: scrolls each message revealed
 * in `room` to the middle of the view.
 */
export function showsRevealed(room: string): Attachment<HTMLElement> {
  return (scroller) => {
    const at = revealed.is(room, revealed.seq) ? revealed.seq : 0;
    if (!at) return;
    // After the pages just loaded are laid out and the conversation has kept (or not) its place.
    void tick()
      .then(tick)
      .then(() => scroller.querySelector(`[data-seq="${at}"]`)?.scrollIntoView({ block: 'center' }));
  };
}

/**
 * For the conversation: reveals message `seq` (its `?seq=`, from a search result) once it opens, and
 * forgets the highlight when it closes. Reads no state, so it runs again only for another room or seq.
 */
export function revealsOnOpen(room: string, seq: number): Attachment<HTMLElement> {
  return () => {
    if (seq > 0) untrack(() => void revealMessage(room, seq));
    return () => revealed.clear();
  };
}
