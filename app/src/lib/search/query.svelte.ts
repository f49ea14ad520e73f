/**
 * One search as the screens run it (`GET /api/search`): the query as typed, searched once typing
 * pauses, page after page by cursor. A newer query aborts the request of an older one, and an answer
 * that arrives for anything but the current query is dropped, so what is on screen always answers
 * what is in the box. Used by the search screen (all chats) and the bar in a conversation (`room`).
 */
import type { SearchHit } from '$protocol/http.ts';
import { LIMITS } from '$protocol/limits.ts';
import { ApiError, api } from '../api.ts';

/** How long (ms) typing must pause before the query goes out. */
export const SEARCH_DEBOUNCE_MS = 250;

export type SearchStatus =
  /** Nothing typed. */
  | 'blank'
  /** Typed, but no letter or digit to look for (only operators or punctuation). */
  | 'unsearchable'
  /** The first page is on its way. */
  | 'loading'
  /** `hits` holds at least one result. */
  | 'found'
  | 'none'
  /** No connection: search runs on the server. */
  | 'offline'
  /** The server refused or failed; `retry` tries again. */
  | 'error';

/** True when `q` has something the server can search for (docs/errors.md, `invalid_query`). */
export function searchable(q: string): boolean {
  return q.length <= LIMITS.searchQueryMax && /[\p{L}\p{N}]/u.test(q);
}

export class SearchQuery {
  /** The query as typed. */
  q = $state('');
  /** What the current query found so far, newest first. */
  hits = $state<SearchHit[]>([]);
  /** The cursor of the next page, when there may be more. */
  next = $state<string | undefined>(undefined);
  status = $state<SearchStatus>('blank');
  /** A further page is on its way. */
  loadingMore = $state(false);
  /** Why the last further page did not come (the results so far stay; `more` tries again). */
  moreFailed = $state<'offline' | 'error' | null>(null);
  /**
   * Moves each time a first page lands (a new result list), so a screen can start over at its top.
   */
  generation = $state(0);

  private readonly room: string | undefined;
  private readonly delayMs: number;
  /** Counts queries: an answer for an older ticket is dropped. */
  private ticket = 0;
  private controller: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `room` limits the search to one room; `delayMs` (default SEARCH_DEBOUNCE_MS) is the typing pause. */
  constructor(room?: string, delayMs = SEARCH_DEBOUNCE_MS) {
    this.room = room;
    this.delayMs = delayMs;
  }

  /** Takes the query as typed; searches once typing pauses (at once with `now`). */
  set(q: string, now = false): void {
    this.q = q;
    this.cancel();
    const trimmed = q.trim();
    this.hits = [];
    this.next = undefined;
    if (!trimmed) return void (this.status = 'blank');
    if (!searchable(trimmed)) return void (this.status = 'unsearchable');
    this.status = 'loading';
    if (now) void this.first(trimmed);
    else this.timer = setTimeout(() => void this.first(trimmed), this.delayMs);
  }

  /** Searches the current query again from its first page (after an error, or back online). */
  retry(): void {
    if (this.status === 'error' || this.status === 'offline') this.set(this.q, true);
  }

  /** Asks for the next page; resolves once it is in (or failed, or was superseded). */
  async more(): Promise<void> {
    const cursor = this.next;
    if (!cursor || this.loadingMore || this.status !== 'found') return;
    const ticket = this.ticket;
    this.loadingMore = true;
    this.moreFailed = null;
    try {
      const page = await this.fetch(this.q.trim(), cursor);
      if (ticket !== this.ticket) return;
      const held = new Set(this.hits.map((h) => `${h.room}:${h.seq}`));
      this.hits = [...this.hits, ...page.results.filter((h) => !held.has(`${h.room}:${h.seq}`))];
      this.next = page.next;
    } catch (e) {
      if (ticket !== this.ticket) return;
      // A cursor the server no longer takes (it restarted with a new key): start the query over.
      if (e instanceof ApiError && e.code === 'invalid_cursor') return this.set(this.q, true);
      this.moreFailed = e instanceof ApiError && e.code === 'network' ? 'offline' : 'error';
    } finally {
      if (ticket === this.ticket) this.loadingMore = false;
    }
  }

  /** Stops whatever is pending (the screen is going away). */
  stop(): void {
    this.cancel();
  }

  private async first(q: string): Promise<void> {
    const ticket = this.ticket;
    try {
      const page = await this.fetch(q);
      if (ticket !== this.ticket) return;
      this.hits = page.results;
      this.next = page.results.length > 0 ? page.next : undefined;
      this.status = page.results.length > 0 ? 'found' : 'none';
      this.generation++;
    } catch (e) {
      if (ticket === this.ticket) this.fail(e);
    }
  }

  private fetch(q: string, cursor?: string) {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return Promise.reject(new ApiError('network', 'offline', 0));
    this.controller = new AbortController();
    return api.search({ q, room: this.room, cursor, limit: LIMITS.searchPageMax }, this.controller.signal);
  }

  private fail(e: unknown): void {
    if (!(e instanceof ApiError)) return void (this.status = 'error');
    switch (e.code) {
      case 'network':
        this.status = 'offline';
        return;
      case 'invalid_query':
        this.status = 'unsearchable';
        return;
      // A room this device knows but the server does not (no message yet): nothing in it to find.
      case 'room_not_found':
        this.status = 'none';
        return;
      default:
        this.status = 'error';
    }
  }

  private cancel(): void {
    this.ticket++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.controller?.abort();
    this.controller = null;
    this.loadingMore = false;
    this.moreFailed = null;
  }
}
