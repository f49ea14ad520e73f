/**
 * Search over the history: the messages of a caller's scope whose current text holds every word
 * of a query. Apart from the history store (history.port.ts) because it reads differently: across
 * many rooms at once, newest first, through an index of words. Two implementations keep one
 * contract (db/test/search.contract.ts): PostgreSQL (search.pg.ts, also on PGlite) and MongoDB
 * (search.mongo.ts), each over the messages its history store keeps.
 */
import { searchWords } from '../protocol/search.ts';

/** Seqs `from` to `to` (inclusive; no end when undefined) of one room: what a caller may read of it. */
export interface SearchWindow {
  room: string;
  from: number;
  to?: number;
}

/** Where a message sits in the order of results: newest first, then room and seq, all descending. */
export interface SearchKey {
  ts: number;
  room: string;
  seq: number;
}

export interface SearchRequest {
  /** Normalised words (protocol/search.ts, parseSearchQuery): each must match a word; the last one also as a prefix. */
  words: readonly string[];
  /** The windows searched; a room outside them is never read. */
  scope: readonly SearchWindow[];
  /** Only messages after this one in the order (the previous page's last); from the newest when undefined. */
  after?: SearchKey;
  /** Most messages returned. */
  limit: number;
}

/** A text message that matched, with its current body. */
export interface FoundMessage extends SearchKey {
  sender: number;
  body: string;
}

export interface SearchStore {
  /**
   * Text messages of the scope matching the words, in the order of SearchKey, at most `limit`.
   * Never a group event or change entry, never a message deleted for everyone (empty body); an
   * edited message by its current body.
   */
  search(request: SearchRequest): Promise<FoundMessage[]>;
}

/** True when `a` comes before `b` in the order of results (newest first; room, then seq, descending). */
export function searchKeyBefore(a: SearchKey, b: SearchKey): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.room !== b.room) return a.room > b.room;
  return a.seq > b.seq;
}

/**
 * The request's words as a store queries them: split again by the word rule, so that even a
 * caller that skipped parseSearchQuery cannot get a query operator into a tsquery or a regex.
 */
export function storeWords(words: readonly string[]): string[] {
  return words.flatMap((w) => searchWords(w));
}
