import t, { type Test } from 'tap';
import { systemScheduler, type Scheduler } from '../../db/clock.ts';
import { isMessageChange, LIMITS, type Message, type ServerFrame } from '../../protocol/frames.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { openStores } from '../src/stores.ts';
import { modes, startNode, testNodeEnv, type Harness, type TestClient } from '../../test/support/router.harness.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
type Answer = FrameOf<'message.changed'> | FrameOf<'message.hidden'> | FrameOf<'message.sent'> | FrameOf<'error'>;

let refs = 0;

/** Sends a frame with a fresh ref and waits for its answer (or error). */
function ask(c: TestClient, frame: Record<string, unknown>): Promise<Answer> {
  const ref = `a${++refs}`;
  c.send({ ...frame, ref });
  return c.nextWhere((f): f is Answer => 'ref' in f && f.ref === ref && ['message.changed', 'message.hidden', 'message.sent', 'error'].includes(f.type), 10_000, `answer to ${String(frame.type)}`);
}

/** The room's whole log as history.get returns it, oldest first. */
async function history(c: TestClient, room: string): Promise<Message[]> {
  const ref = `h${++refs}`;
  c.send({ type: 'history.get', room, after: 0, limit: LIMITS.historyPageMax, ref });
  return (await c.next('history.page', (p) => p.ref === ref)).messages;
}

const entry = (c: TestClient, room: string, seq: number) => c.next('message.new', (f) => f.message.room === room && f.message.seq === seq).then((f) => f.message);

for (const mode of modes(t, 'message actions')) {
  t.test(`message actions on the ${mode.name}`, async (t) => {
    // The chat's clock runs `shift` ms ahead of real time: the edit window is tested by moving it.
    const clock = { shift: 0 };
    const scheduler: Scheduler = { ...systemScheduler, now: () => Date.now() + clock.shift };
    const env = await mode.env(t);
    const config = loadConfig(testNodeEnv(env));
    const stores = await openStores(config, createLogger(config.logLevel));
    t.teardown(() => stores.close());
    const h = await startNode(t, env, stores, { scheduler });
    await actions(t, h, clock);
  });
}

async function actions(t: Test, h: Harness, clock: { shift: number }): Promise<void> {
  const [ann, ben, cat] = await Promise.all([h.user(), h.user(), h.user()]);
  const [a, b, b2, c] = await Promise.all([ann.connect(), ben.connect(), ben.connect(), cat.connect()]);
  // Ben's third device: it has the room up to the first message, then goes offline.
  const b3 = await ben.connect();
  const room = [ann.id, ben.id].sort((x, y) => x - y).join('-');
  const catRoom = [ann.id, cat.id].sort((x, y) => x - y).join('-');
  const last = () => h.stores.history.lastSeq(room);
  let offline: Message[] = [];

  await t.test('hello announces the edit window', async (t) => {
    t.equal(a.all('hello')[0]?.editWindowMs, 48 * 3600_000, '48 hours by default');
  });

  await t.test('a reply carries a preview of its original', async (t) => {
    t.match(await a.sendMessage({ to: ben.id }, 'first message'), { seq: 1 }, 'ann writes');
    await entry(b3, room, 1);
    offline = await history(b3, room);
    await b3.close();
    b.send({ type: 'message.send', room, clientMsgId: 'reply-1', body: 'an answer', replyTo: 1 });
    t.match(await b.next('message.sent', (f) => f.ref === 'reply-1'), { seq: 2 }, 'ben replies');
    t.match(await entry(a, room, 2), { body: 'an answer', replyTo: { seq: 1, sender: ann.id, preview: 'first message' } }, 'ann gets the reply with its preview');
  });

  await t.test('an edit is an entry every device gets, and a retry changes nothing', async (t) => {
    const edited = await ask(a, { type: 'message.edit', room, seq: 1, body: 'first message, edited' });
    t.match(edited, { type: 'message.changed', room, target: 1, seq: 3 }, 'answered with the entry\'s seq');
    t.match(await entry(a, room, 3), { kind: 'event', sender: ann.id, event: { type: 'message.edited', seq: 1, body: 'first message, edited' } }, 'the asking socket gets the entry too');
    t.match(await entry(b2, room, 3), { event: { type: 'message.edited', seq: 1 } }, 'and ben\'s devices');
    t.match(await ask(a, { type: 'message.edit', room, seq: 1, body: 'first message, edited' }), { type: 'message.changed', target: 1, seq: 3 }, 'the same edit again answers the same seq');
    t.equal(await last(), 3, 'and stores nothing');
  });

  await t.test('reactions toggle, and the set and the limit are enforced', async (t) => {
    t.match(await ask(b, { type: 'message.react', room, seq: 1, emoji: '👍', on: true }), { type: 'message.changed', seq: 4 }, 'ben reacts');
    t.match(await ask(b, { type: 'message.react', room, seq: 1, emoji: '👍', on: true }), { type: 'message.changed', seq: 4 }, 'again: the same answer');
    await ask(b, { type: 'message.react', room, seq: 1, emoji: '❤️', on: true });
    await ask(b, { type: 'message.react', room, seq: 1, emoji: '🔥', on: true });
    t.match(await ask(b, { type: 'message.react', room, seq: 1, emoji: '😂', on: true }), { type: 'error', code: 'too_many_reactions' }, 'a fourth: too_many_reactions');
    t.match(await ask(b, { type: 'message.react', room, seq: 1, emoji: '🤡', on: true }), { type: 'error', code: 'invalid_reaction' }, 'outside the set: invalid_reaction');
    t.match(await ask(b, { type: 'message.react', room, seq: 1, emoji: '🔥', on: false }), { type: 'message.changed', seq: 7 }, 'one taken off');
    t.equal(await last(), 7, 'only the changes were stored');
  });

  await t.test('bad input gets its code and stores nothing', async (t) => {
    const before = await last();
    const cases: Array<[string, TestClient, Record<string, unknown>, string]> = [
      ['editing someone else\'s message', b, { type: 'message.edit', room, seq: 1, body: 'mine now' }, 'not_sender'],
      ['deleting someone else\'s message', b, { type: 'message.delete', room, seq: 1, for: 'everyone' }, 'not_sender'],
      ['a seq that does not exist', a, { type: 'message.edit', room, seq: 999, body: 'x' }, 'message_not_found'],
      ['a seq that is an event', a, { type: 'message.react', room, seq: 3, emoji: '👍', on: true }, 'message_not_found'],
      ['a room the sender is not in', c, { type: 'message.edit', room, seq: 1, body: 'x' }, 'room_not_found'],
      ['a reply to a seq of another room', a, { type: 'message.send', room, clientMsgId: 'bad-reply', body: 'x', replyTo: 9 }, 'message_not_found'],
      ['a reply to an event', a, { type: 'message.send', room, clientMsgId: 'bad-reply2', body: 'x', replyTo: 3 }, 'message_not_found'],
      ['deleting for me a seq that does not exist', b, { type: 'message.delete', room, seq: 999, for: 'me' }, 'message_not_found'],
      ['an edit too long', a, { type: 'message.edit', room, seq: 1, body: 'x'.repeat(LIMITS.maxBodyLength + 1) }, 'body_too_long'],
    ];
    // Cat's room has more seqs than ann and ben's: an edit naming one of them in ann and ben's room finds nothing.
    for (let i = 0; i < 9; i++) await a.sendMessage({ to: cat.id }, `to cat ${i}`);
    cases.push(['a seq of another room', a, { type: 'message.edit', room, seq: 9, body: 'x' }, 'message_not_found']);
    for (const [what, client, frame, code] of cases) t.match(await ask(client, frame), { type: 'error', code }, `${what}: ${code}`);
    clock.shift = 49 * 3600_000;
    t.match(await ask(a, { type: 'message.edit', room, seq: 1, body: 'too late' }), { type: 'error', code: 'edit_window_closed' }, 'an edit past the window: edit_window_closed');
    clock.shift = 0;
    t.equal(await last(), before, 'nothing was stored');
  });

  await t.test('a forward copies a message the sender can see, and only such', async (t) => {
    const sent = await ask(a, { type: 'message.forward', to: cat.id, clientMsgId: 'fwd-1', from: { room, seq: 2 } });
    t.match(sent, { type: 'message.sent', room: catRoom }, 'ann forwards ben\'s reply to cat');
    const copy = await entry(c, catRoom, (sent as FrameOf<'message.sent'>).seq);
    t.match(copy, { sender: ann.id, body: 'an answer', forwarded: { sender: ben.id, name: ben.displayName } }, 'cat gets the copy, marked forwarded from ben');
    t.notOk('replyTo' in copy, 'without the source\'s reply');
    t.match(await ask(a, { type: 'message.forward', to: cat.id, clientMsgId: 'fwd-1', from: { room, seq: 2 } }), { type: 'message.sent', duplicate: true }, 'a retry is a duplicate');
    t.match(await ask(c, { type: 'message.forward', to: ann.id, clientMsgId: 'fwd-2', from: { room, seq: 1 } }), { type: 'error', code: 'message_not_found' }, 'cat cannot forward from a room she is not in');
    t.match(await ask(a, { type: 'message.forward', to: cat.id, clientMsgId: 'fwd-3', from: { room, seq: 3 } }), { type: 'error', code: 'message_not_found' }, 'an event cannot be forwarded');
    const fwdSeq = (sent as FrameOf<'message.sent'>).seq;
    t.match(await ask(c, { type: 'message.edit', room: catRoom, seq: fwdSeq, body: 'x' }), { type: 'error', code: 'not_sender' }, 'cat cannot edit ann\'s forward');
    t.match(await ask(a, { type: 'message.edit', room: catRoom, seq: fwdSeq, body: 'x' }), { type: 'error', code: 'not_editable' }, 'ann cannot edit a forward either');
  });

  await t.test('delete for me reaches every device of the user and nobody else', async (t) => {
    t.match(await ask(b, { type: 'message.delete', room, seq: 2, for: 'me' }), { type: 'message.hidden', room, seq: 2 }, 'ben hides his reply');
    t.match(await b2.next('message.hidden'), { room, seq: 2 }, 'his other device is told');
    t.match(await ask(b, { type: 'message.delete', room, seq: 2, for: 'me' }), { type: 'message.hidden', seq: 2 }, 'twice is fine');
    t.equal(a.all('message.hidden').length, 0, 'ann is never told');
  });

  await t.test('delete for everyone leaves a tombstone and erases the preview', async (t) => {
    t.match(await ask(a, { type: 'message.delete', room, seq: 1, for: 'everyone' }), { type: 'message.changed', target: 1 }, 'ann deletes her message');
    t.match(await ask(a, { type: 'message.delete', room, seq: 1, for: 'everyone' }), { type: 'message.changed', target: 1 }, 'twice is fine');
    t.match(await ask(a, { type: 'message.edit', room, seq: 1, body: 'back' }), { type: 'error', code: 'message_deleted' }, 'a deleted message cannot be edited');
    t.match(await ask(a, { type: 'message.forward', to: cat.id, clientMsgId: 'fwd-4', from: { room, seq: 1 } }), { type: 'error', code: 'message_deleted' }, 'nor forwarded');
    const log = await history(a, room);
    t.match(log[0], { seq: 1, body: '', deleted: true }, 'history shows the tombstone');
    t.notOk('reactions' in log[0]! || 'editedAt' in log[0]!, 'without reactions or edit time');
    t.match(log[1]?.replyTo, { seq: 1, preview: '', deleted: true }, 'the reply\'s preview is erased');
    t.notOk(JSON.stringify(log).includes('first message'), 'the text is gone from every entry, the edit\'s too');
  });

  await t.test('an offline device syncs and, applying the entries by the rev rule, ends where history is', async (t) => {
    const d = await ben.connect();
    d.send({ type: 'sync', rooms: [{ room, lastSeq: offline.at(-1)!.seq }] });
    const done = await d.next('sync.done');
    const missed = d.all('history.page').filter((p) => p.room === room).flatMap((p) => p.messages);
    const state = applyEntries(offline, missed);
    t.same(state, await history(d, room), 'the device\'s state is exactly what history.get returns');
    t.same(done.rooms.find((r) => r.room === room)?.hidden, [2], 'sync.done lists what ben deleted for himself');
  });
}

/** What a client does with the entries it gets: keeps each by seq, applies a change when its seq is above the target's rev. */
function applyEntries(held: readonly Message[], entries: readonly Message[]): Message[] {
  const state = new Map(held.map((m) => [m.seq, structuredClone(m)]));
  for (const e of entries) {
    state.set(e.seq, structuredClone(e));
    if (!isMessageChange(e.event)) continue;
    const target = state.get(e.event.seq);
    if (!target || e.seq <= (target.rev ?? 0)) continue;
    target.rev = e.seq;
    switch (e.event.type) {
      case 'message.edited':
        target.body = e.event.body;
        target.editedAt = e.ts;
        break;
      case 'message.deleted':
        Object.assign(target, { body: '', deleted: true });
        delete target.editedAt;
        delete target.reactions;
        delete target.forwarded;
        // The store erases the deleted message's edits too.
        for (const m of state.values()) if (m.event?.type === 'message.edited' && m.event.seq === target.seq) m.event.body = '';
        break;
      case 'message.reacted': {
        const reactions = target.reactions ?? {};
        const who = (reactions[e.event.emoji] ?? []).filter((u) => u !== e.sender);
        if (e.event.on) who.push(e.sender);
        if (who.length > 0) reactions[e.event.emoji] = who;
        else delete reactions[e.event.emoji];
        if (Object.keys(reactions).length > 0) target.reactions = reactions;
        else delete target.reactions;
        break;
      }
    }
  }
  // A reply's preview follows its original.
  for (const m of state.values()) {
    const original = m.replyTo && state.get(m.replyTo.seq);
    if (m.replyTo && original) m.replyTo = original.deleted ? { seq: original.seq, sender: original.sender, preview: '', deleted: true } : { seq: original.seq, sender: original.sender, preview: original.body.slice(0, LIMITS.replyPreviewLength) };
  }
  return [...state.values()].sort((x, y) => x.seq - y.seq);
}
