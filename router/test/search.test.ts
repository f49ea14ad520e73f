/**
 * GET /api/search on a real node (the embedded default): who finds what (own rooms only, a
 * group from joining to leaving, a former group, never another user's room), every bad input with
 * its code, paging with the cursor, and the seam for messages hidden by their reader.
 */
import t from 'tap';
import type { Message, RoomEvent } from '../../protocol/frames.ts';
import type { SearchResponse } from '../../protocol/http.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { call } from '../../test/support/http.client.ts';
import { startNode, TEST_ORIGIN, type TestUser } from '../../test/support/router.harness.ts';
import { SearchService } from '../src/search/search.service.ts';

t.test('search over HTTP', async (t) => {
  const h = await startNode(t);
  const { history, relational } = h.stores;
  const [ann, bob, cat] = [await h.user('ann'), await h.user('bob'), await h.user('cat')] as [TestUser, TestUser, TestUser];

  const direct = async (x: TestUser, y: TestUser) => (await relational.openDirectRoom(x.id, y.id))!.id;
  const send = async (room: string, sender: number, ...bodies: string[]) => {
    const outcomes = await history.append(bodies.map((body, i) => ({ room, sender, body, clientMsgId: `${room}-${Date.now()}-${Math.random()}-${i}` })));
    return outcomes.map((o) => o.message!.seq);
  };
  const groupEvent = async (room: string, sender: number, event: RoomEvent, change: NonNullable<Parameters<typeof history.append>[0][0]['change']>, expect: number) => {
    const [outcome] = await history.append([{ room, sender, body: '', clientMsgId: `ev-${Math.random()}`, event, change, op: { expect } }]);
    const message = outcome!.message as Message;
    await relational.applyGroupEvents([message]);
    return message.seq;
  };

  const annBob = await direct(ann, bob);
  const bobCat = await direct(bob, cat);
  await send(annBob, ann.id, 'banana bread recipe', 'see you at noon');
  await send(bobCat, bob.id, 'the secret banana stash');
  // A group: bob and cat from its start, ann from seq 3 to seq 5.
  const group = 'g-0123456789abcdef';
  await groupEvent(group, bob.id, { type: 'room.created', name: 'Fruit', members: [{ user: bob.id, role: 'owner' }, { user: cat.id, role: 'member' }] }, { set: [{ user: bob.id, role: 'owner' }, { user: cat.id, role: 'member' }] }, 0);
  const [beforeJoin] = await send(group, bob.id, 'banana talk before ann joined');
  const joined = await groupEvent(group, bob.id, { type: 'member.added', user: ann.id, role: 'member' }, { set: [{ user: ann.id, role: 'member' }] }, 1);
  const [whileMember] = await send(group, cat.id, 'banana talk while ann is here');
  const left = await groupEvent(group, bob.id, { type: 'member.removed', user: ann.id }, { remove: [ann.id] }, joined);
  const [afterLeaving] = await send(group, cat.id, 'banana talk after ann left');

  const search = (user: TestUser, query: string) => call(h.httpUrl, `/api/search?${query}`, { cookie: `sid=${user.sessionId}`, origin: TEST_ORIGIN });
  const found = async (user: TestUser, query: string) => {
    const answer = await search(user, query);
    if (answer.status !== 200) throw new Error(`search ${query}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body as SearchResponse;
  };
  const where = (r: SearchResponse) => r.results.map((hit) => `${hit.room}#${hit.seq}`).sort();

  t.test('a user finds only what they can read: their rooms, a group from joining to leaving', async (t) => {
    t.same(where(await found(ann, 'q=banana')), [`${annBob}#1`, `${group}#${whileMember}`].sort(), 'ann: her 1:1 room and the group only while she was in it');
    t.same(where(await found(cat, 'q=banana')), [`${bobCat}#1`, `${group}#${beforeJoin}`, `${group}#${whileMember}`, `${group}#${afterLeaving}`].sort(), 'cat: her room and the whole group');
    t.same(where(await found(ann, 'q=secret')), [], "never another user's room");
    t.same(where(await found(ann, `q=banana&room=${group}`)), [`${group}#${whileMember}`], 'a former group can still be searched alone, within her window');
    t.ok(left > whileMember!, 'the window closed after the message she saw');
  });

  t.test('a hit carries the message and a snippet with its matches marked, as data', async (t) => {
    const [hit] = (await found(ann, `q=bread%20BAN&room=${annBob}`)).results;
    t.match(hit, { room: annBob, seq: 1, sender: ann.id, snippet: { text: 'banana bread recipe', marks: [[0, 6], [7, 12]] } }, 'the prefix and the word are marked');
  });

  t.test('pages follow one another through the cursor, without a repeat or a gap', async (t) => {
    const many = await direct(ann, cat);
    await send(many, cat.id, ...Array.from({ length: 7 }, (_, i) => `kiwi number ${i}`));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const page = await found(ann, `q=kiwi&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.results.map((hit) => `${hit.room}#${hit.seq}`));
      cursor = page.next;
      if (!cursor) break;
    }
    t.same(seen, [7, 6, 5, 4, 3, 2, 1].map((s) => `${many}#${s}`), 'all seven, newest first, once each');
    const first = await found(ann, 'q=kiwi&limit=3');
    const other = await search(ann, `q=kiwis&limit=3&cursor=${first.next}`);
    t.match(other, { status: 400, body: { error: { code: 'invalid_cursor' } } }, "another query's cursor is refused");
    const otherRoom = await search(ann, `q=kiwi&limit=3&room=${many}&cursor=${first.next}`);
    t.match(otherRoom, { status: 400, body: { error: { code: 'invalid_cursor' } } }, 'the same words within one room are another query');
    const decoded = JSON.parse(Buffer.from(first.next!, 'base64url').toString()) as unknown[];
    decoded[2] = 1;
    const tampered = Buffer.from(JSON.stringify(decoded)).toString('base64url');
    t.match(await search(ann, `q=kiwi&limit=3&cursor=${tampered}`), { status: 400, body: { error: { code: 'invalid_cursor' } } }, 'an altered cursor is refused');
  });

  t.test('bad input gets its documented code and reads nothing', async (t) => {
    const cases: Array<[string, string, string]> = [
      ['', 'invalid_query', 'no q'],
      ['q=', 'invalid_query', 'an empty q'],
      ['q=%20%20%09', 'invalid_query', 'only whitespace'],
      [`q=${encodeURIComponent('&|!:*() $ .*+?^${}[]\\ <-> -- /* */')}`, 'invalid_query', 'only operators and metacharacters'],
      [`q=${'a'.repeat(LIMITS.searchQueryMax + 1)}`, 'invalid_query', 'one character over searchQueryMax'],
      [`q=${'a'.repeat(10 * 1024)}`, 'invalid_query', '10 KB of letters'],
      ['q=a&q=b', 'invalid_query', 'a repeated q'],
      ['q=banana&limit=0', 'invalid_request', 'a limit of 0'],
      [`q=banana&limit=${LIMITS.searchPageMax + 1}`, 'invalid_request', 'a limit over searchPageMax'],
      ['q=banana&limit=two', 'invalid_request', 'a limit that is not a number'],
      ['q=banana&room=..%2F..', 'invalid_request', 'a room id that is not one'],
      [`q=banana&room=${bobCat}`, 'room_not_found', "another user's room"],
      ['q=banana&room=g-ffffffffffffffff', 'room_not_found', 'a room that does not exist'],
      ['q=banana&cursor=', 'invalid_cursor', 'an empty cursor'],
      ['q=banana&cursor=garbage', 'invalid_cursor', 'a garbage cursor'],
      [`q=banana&cursor=${Buffer.from('[1,"x",1,"tag"]').toString('base64url')}`, 'invalid_cursor', 'a made-up cursor'],
      [`q=banana&cursor=${'A'.repeat(600)}`, 'invalid_cursor', 'a cursor far too long'],
      ['q=banana&cursor=a&cursor=b', 'invalid_cursor', 'a repeated cursor'],
    ];
    for (const [query, code, what] of cases) {
      const answer = await search(ann, query);
      t.match(answer, { status: code === 'room_not_found' ? 404 : 400, body: { error: { code } } }, `${what}: ${code}`);
    }
    const operators = await found(ann, `q=${encodeURIComponent('ban* | !noon')}`);
    t.same(where(operators), [], 'operators between words are separators: "ban noon" is two words, and no message has both');
    t.same(where(await found(ann, `q=${encodeURIComponent('(see) & noon:*')}`)), [`${annBob}#2`], 'words among operators are searched as words');
    t.same(where(await found(ann, `q=${encodeURIComponent('{"$where": "1"}')}`)), [], '"$where" is the word "where" and the number 1, which no message of hers has');
  });

  t.test('a query string past the HTTP edge limit is refused before any handler', async (t) => {
    // Node refuses request heads over 16 KiB (431); 10 KB of operators, percent-encoded, is 30 KB.
    const answer = await search(ann, `q=${encodeURIComponent('&|!:*()'.repeat(1500))}`);
    t.equal(answer.status, 431, 'Request Header Fields Too Large');
  });

  t.test('signed-in users only', async (t) => {
    const answer = await call(h.httpUrl, '/api/search?q=banana', { origin: TEST_ORIGIN });
    t.match(answer, { status: 401, body: { error: { code: 'unauthenticated' } } }, 'no session, no search');
  });

  t.test('messages the user hid are skipped, and the page is filled past them', async (t) => {
    const room = await direct(bob, cat);
    const seqs = await send(room, bob.id, ...Array.from({ length: 6 }, (_, i) => `plum ${i}`));
    const hiddenSeqs = new Set([seqs[5], seqs[4], seqs[2]]);
    const asked: number[] = [];
    const service = new SearchService({
      search: h.stores.search,
      rooms: relational,
      hiddenFor: async (user, found) => {
        asked.push(user);
        return found.filter((m) => m.room === room && hiddenSeqs.has(m.seq));
      },
    });
    const first = await service.search(bob.id, { words: ['plum'], limit: 2 });
    t.same(first.hits.map((hit) => hit.seq), [seqs[3], seqs[1]], 'the two newest not hidden');
    t.ok(first.next, 'with a cursor, since one more remains');
    const second = await service.search(bob.id, { words: ['plum'], limit: 2, after: first.next! });
    t.same(second.hits.map((hit) => hit.seq), [seqs[0]], 'then the last one');
    t.equal(second.next, undefined, 'and nothing after it');
    t.ok(asked.every((u) => u === bob.id), 'asked about the searching user only');
  });
});
