/**
 * Search for one user: the rule of what they may find, and the page they get. The scope comes
 * from the relational store, never from the request: every room they are or were in, a 1:1 room
 * whole, a group from the seq they joined to the seq they left (docs/protocol.md, "Who sees
 * what"). Messages they hid for themselves are skipped, and the page is filled past them.
 */
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { FoundMessage, SearchKey, SearchStore, SearchWindow } from '../../../db/search.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { SearchHit } from '../../../protocol/http.ts';
import { searchSnippet } from '../../../protocol/search.ts';

/** A message by its place in its room's log. */
export interface RoomSeq {
  room: string;
  seq: number;
}

export interface SearchDeps {
  search: SearchStore;
  rooms: Pick<RelationalStore, 'roomsOf'>;
  /**
   * Of `found`, the messages `user` deleted for themselves ("delete for me"), which search skips.
   * Default: none.
   */
  hiddenFor?: (user: number, found: readonly RoomSeq[]) => Promise<readonly RoomSeq[]>;
}

export interface SearchAsk {
  /** Normalised words (parseSearchQuery). */
  words: readonly string[];
  /** Only this room, which must be one of the user's. */
  room?: string;
  /** Continue after this position (a decoded cursor). */
  after?: SearchKey;
  limit: number;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Where the next page starts; undefined when there is nothing more. */
  next?: SearchKey;
}

/**
 * Store reads one page may take when hidden messages keep it short. Past them the page is sent
 * shorter, with its cursor, so a user who hid thousands of matches still gets an answer promptly.
 */
const MAX_READS = 4;

export class SearchService {
  readonly #deps: SearchDeps;

  constructor(deps: SearchDeps) {
    this.#deps = deps;
  }

  /** The windows of the log `user` may read: those of `room` only when given (room_not_found if it is not theirs). */
  async scopeOf(user: number, room?: string): Promise<SearchWindow[]> {
    const rooms = await this.#deps.rooms.roomsOf(user, { former: true });
    const scope = rooms
      .filter((r) => room === undefined || r.id === room)
      .map((r): SearchWindow => (r.kind === 'group' ? { room: r.id, from: Math.max(1, r.own.joinedSeq), ...(r.own.leftSeq !== null ? { to: r.own.leftSeq } : {}) } : { room: r.id, from: 1 }));
    if (room !== undefined && scope.length === 0) throw new AppError('room_not_found');
    return scope;
  }

  /** One page of `user`'s matches, newest first. */
  async search(user: number, ask: SearchAsk): Promise<SearchPage> {
    const { words, limit } = ask;
    const scope = await this.scopeOf(user, ask.room);
    const kept: FoundMessage[] = [];
    let after = ask.after;
    let more = false;
    for (let read = 0; read < MAX_READS && kept.length < limit; read++) {
      const want = limit - kept.length;
      // One more than wanted says whether anything follows, without another read.
      const found = await this.#deps.search.search({ words, scope, limit: want + 1, ...(after ? { after } : {}) });
      const page = found.slice(0, want);
      more = found.length > want;
      const hidden = page.length > 0 && this.#deps.hiddenFor ? new Set((await this.#deps.hiddenFor(user, page)).map((h) => `${h.room}#${h.seq}`)) : undefined;
      kept.push(...(hidden ? page.filter((m) => !hidden.has(`${m.room}#${m.seq}`)) : page));
      const last = page.at(-1);
      if (last) after = { ts: last.ts, room: last.room, seq: last.seq };
      if (!more) break;
    }
    return {
      hits: kept.map((m) => ({ room: m.room, seq: m.seq, sender: m.sender, ts: m.ts, snippet: searchSnippet(m.body, words) })),
      ...(more && after ? { next: after } : {}),
    };
  }
}
