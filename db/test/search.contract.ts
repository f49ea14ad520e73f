/**
 * The contract every SearchStore keeps, run by search.test.ts against each reachable store. One
 * pair of stores serves the whole run; every test writes to rooms of its own and searches only
 * them (the scope), so tests never see each other's rows. Messages go in through the history
 * store's own append, as the router writes them.
 */
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { parseSearchQuery } from '../../protocol/search.ts';
import type { NewMessage } from '../history.port.ts';
import { searchKeyBefore, type FoundMessage, type SearchWindow } from '../search.port.ts';
import type { OpenedSearch } from './search.stores.ts';

function freshRoom(label = 'r'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

const idsOf = (found: FoundMessage[]) => found.map((m) => `${m.room}#${m.seq}`);
const whole = (room: string): SearchWindow => ({ room, from: 1 });

/** Registers the contract's tests on `t` against the stores from `open`, closed at teardown. */
export async function searchContract(t: Test, open: () => Promise<OpenedSearch>): Promise<void> {
  const { history, search, edit, close } = await open();
  t.teardown(close);

  /** Appends text messages to `room` in one batch; returns their seqs. */
  const write = async (room: string, bodies: string[], sender = 1): Promise<number[]> => {
    const batch: NewMessage[] = bodies.map((body, i) => ({ room, sender, body, clientMsgId: `c-${randomBytes(4).toString('hex')}-${i}` }));
    const outcomes = await history.append(batch);
    return outcomes.map((o) => o.message!.seq);
  };
  /** The bodies found for query `q` in `scope`. */
  const bodies = async (q: string, scope: SearchWindow[], limit = 50) => (await search.search({ words: parseSearchQuery(q)!, scope, limit })).map((m) => m.body);

  t.test('a message is found when it has every word of the query, the last one also as a prefix', async (t) => {
    const room = freshRoom();
    await write(room, ['the message arrived late', 'a late train', 'messy desk', 'nothing here']);
    const scope = [whole(room)];
    t.same((await bodies('mess', scope)).sort(), ['messy desk', 'the message arrived late'], '"mess" finds both words that start with it');
    t.same(await bodies('late message', scope), ['the message arrived late'], 'every word must match');
    t.same(await bodies('mess arrived', scope), [], 'only the last word is a prefix: "mess" alone is not a word of the message');
    t.same(await bodies('arrived mess', scope), ['the message arrived late'], 'the same words with the prefix last match');
    t.same((await bodies('LATE', scope)).sort(), ['a late train', 'the message arrived late'], 'case does not matter');
    t.same(await bodies('absent', scope), [], 'a word no message has finds nothing');
  });

  t.test('what it returns: room, seq, sender, ts and the current body', async (t) => {
    const room = freshRoom();
    const [seq] = await write(room, ['hello there'], 7);
    const [hit] = await search.search({ words: ['hello'], scope: [whole(room)], limit: 10 });
    t.match(hit, { room, seq, sender: 7, body: 'hello there' }, 'the message as stored');
    t.ok(Number.isSafeInteger(hit?.ts) && hit!.ts > 0, 'with its timestamp');
  });

  t.test('words of any script, case folded and compared in NFC', async (t) => {
    const room = freshRoom();
    await write(room, ['Привет, МИР! Как дела?', 'École d\u2019été', 'e\u0301cole (decomposed)', 'नमस्ते दुनिया', '東京 タワー']);
    const scope = [whole(room)];
    t.same(await bodies('мир', scope), ['Привет, МИР! Как дела?'], 'a Cyrillic word, whatever its case');
    t.same(await bodies('прив', scope), ['Привет, МИР! Как дела?'], 'a Cyrillic prefix');
    t.same((await bodies('ÉCOLE', scope)).length, 2, 'an accented word matches its composed and decomposed spellings');
    t.same(await bodies('नमस्ते', scope), ['नमस्ते दुनिया'], 'a Devanagari word with a virama and a vowel sign is one word');
    t.same(await bodies('東京', scope), ['東京 タワー'], 'a CJK word between spaces');
  });

  t.test('punctuation separates words, so parts of addresses and versions are found', async (t) => {
    const room = freshRoom();
    await write(room, ['mail bob@example.com about v1.2.3', 'see https://docs.example.org/path_to/page?q=1', 'well-known fact']);
    const scope = [whole(room)];
    t.same((await bodies('example', scope)).sort(), ['mail bob@example.com about v1.2.3', 'see https://docs.example.org/path_to/page?q=1'], 'a word of an e-mail address and of a URL');
    t.same(await bodies('bob', scope), ['mail bob@example.com about v1.2.3'], 'the local part of an address');
    t.same(await bodies('known', scope), ['well-known fact'], 'each half of a hyphenated word');
    t.same(await bodies('path', scope), ['see https://docs.example.org/path_to/page?q=1'], 'a word of a path, underscores separating');
  });

  t.test('query operators and regex metacharacters are plain separators', async (t) => {
    const room = freshRoom();
    await write(room, ['a&b | c!d:e*(f) $where .* [x]', 'plain words only']);
    const scope = [whole(room)];
    for (const q of ['a&b', 'c!d', '$where', '(f)', 'e*', '[x]', 'a | where', "where')--"]) {
      t.same(await bodies(q, scope), ['a&b | c!d:e*(f) $where .* [x]'], `${JSON.stringify(q)} searches its words`);
    }
    // The store's own defence: words that never came through parseSearchQuery.
    for (const words of [['.*'], ['a:*|b'], ['$where'], ['!'], ["')--"], ['^'], ['w&!p']]) {
      const found = await search.search({ words, scope, limit: 10 });
      t.ok(found.every((m) => m.body.startsWith('a&b')), `raw words ${JSON.stringify(words)} are split into words too, never an operator`);
    }
    t.same(await search.search({ words: ['.*'], scope, limit: 10 }), [], 'a word with no letter or digit finds nothing');
  });

  t.test('only text messages: group events and their texts are never found', async (t) => {
    const room = `g-${randomBytes(8).toString('hex')}`;
    const members = [{ user: 1, role: 'owner' as const }, { user: 2, role: 'member' as const }];
    await history.append([{ room, sender: 1, body: 'secret event words', clientMsgId: 'ev-1', event: { type: 'room.created', name: 'secret', members }, change: { set: members }, op: { expect: 0 } }]);
    await write(room, ['an ordinary secret']);
    t.same(await bodies('secret', [whole(room)]), ['an ordinary secret'], 'the event entry is not a hit, the message is');
  });

  t.test('an edited message is found by its current body only', async (t) => {
    const room = freshRoom();
    const [seq] = await write(room, ['original wording']);
    await edit(room, seq!, 'corrected phrasing');
    t.same(await bodies('original', [whole(room)]), [], 'the old words are gone');
    t.same(await bodies('phras', [whole(room)]), ['corrected phrasing'], 'the new words are found, the body returned is the current one');
  });

  t.test('a message deleted for everyone (an empty body) is never found', async (t) => {
    const room = freshRoom();
    const [gone, kept] = await write(room, ['to be deleted soon', 'deleted? no, kept']);
    await edit(room, gone!, '');
    const found = await search.search({ words: ['deleted'], scope: [whole(room)], limit: 10 });
    t.same(idsOf(found), [`${room}#${kept}`], 'only the message that still has its body');
  });

  t.test('only the scope is searched: seq windows and rooms outside it', async (t) => {
    const room = freshRoom();
    const other = freshRoom();
    const seqs = await write(room, ['needle 1', 'needle 2', 'needle 3', 'needle 4', 'needle 5']);
    await write(other, ['needle elsewhere']);
    const ids = async (scope: SearchWindow[]) => idsOf(await search.search({ words: ['needle'], scope, limit: 50 })).sort();
    t.same(await ids([{ room, from: 2, to: 4 }]), [2, 3, 4].map((s) => `${room}#${s}`), 'from and to are inclusive');
    t.same(await ids([{ room, from: 4 }]), [4, 5].map((s) => `${room}#${s}`), 'an open window runs to the end of the log');
    t.same(await ids([{ room, from: 6 }]), [], 'a window after the last message is empty');
    t.same(await ids([{ room: other, from: 1 }]), [`${other}#1`], 'one room alone');
    t.same(await ids([whole(room), whole(other)]), [...seqs.map((s) => `${room}#${s}`), `${other}#1`].sort(), 'several rooms at once');
    t.same(await search.search({ words: ['needle'], scope: [], limit: 50 }), [], 'no scope, nothing');
  });

  t.test('pages follow one another without a repeat or a gap, newest first', async (t) => {
    const rooms = [freshRoom('a'), freshRoom('b'), freshRoom('c')];
    // Messages of one batch share their timestamp: the order falls back to room and seq.
    for (const room of rooms) await write(room, ['page me 1', 'page me 2', 'not this one', 'page me 3']);
    await write(rooms[0]!, ['page me later']);
    const scope = rooms.map(whole);
    const all = await search.search({ words: ['page', 'me'], scope, limit: 50 });
    t.equal(all.length, 10, 'every match in one page');
    t.ok(all.every((m, i) => i === 0 || searchKeyBefore(all[i - 1]!, m)), 'ordered by ts, room and seq, all descending');
    const paged: FoundMessage[] = [];
    let after: FoundMessage | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await search.search({ words: ['page', 'me'], scope, limit: 3, ...(after ? { after } : {}) });
      t.ok(page.length <= 3, 'a page holds at most its limit');
      paged.push(...page);
      if (page.length < 3) break;
      after = page.at(-1);
    }
    t.same(idsOf(paged), idsOf(all), 'the pages together are the whole result, in order, once each');
    t.same(await search.search({ words: ['page'], scope, limit: 0 }), [], 'a limit of 0 reads nothing');
  });
}
