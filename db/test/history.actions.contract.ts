/**
 * The message-actions part of the history contract (docs/protocol.md, "Message actions"): edits,
 * deletions and reactions judged and applied in the commit, replies and forwards, run by
 * history.contract.ts against every store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import type { MessageChange } from '../../protocol/frames.ts';
import type { AppendOutcome, HistoryStore, NewMessage } from '../history.port.ts';

const room = (label = 'act') => `${label}-${randomBytes(6).toString('hex')}`;
const text = (r: string, sender: number, body: string, more: Partial<NewMessage> = {}): NewMessage => ({ room: r, sender, body, clientMsgId: randomUUID(), ...more });
const change = (r: string, sender: number, event: MessageChange, more: Partial<NewMessage> = {}): NewMessage => ({ room: r, sender, body: '', clientMsgId: randomUUID(), event, ...more });
const one = async (store: HistoryStore, m: NewMessage): Promise<AppendOutcome> => (await store.append([m]))[0]!;
const current = async (store: HistoryStore, r: string, seq: number) => (await store.at(r, [seq]))[0];

export function historyActionsContract(t: Test, store: HistoryStore): void {
  t.test('an edit replaces the body in the commit, and the same edit again changes nothing', async (t) => {
    const r = room();
    await store.append([text(r, 1, 'helo'), text(r, 2, 'hi')]);
    const edited = await one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'hello' }, { editableSince: 0 }));
    t.match(edited, { kind: 'stored', message: { seq: 3, kind: 'event', sender: 1, body: '', event: { type: 'message.edited', seq: 1, body: 'hello' } } }, 'the edit is entry 3 of the log');
    const target = await current(store, r, 1);
    t.match(target, { seq: 1, body: 'hello', rev: 3 }, 'the message reads in its edited state, rev naming the edit');
    t.type(target?.editedAt, 'number', 'with editedAt');
    t.same((await store.after(r, 0, 10)).map((m) => m.seq), [1, 2, 3], 'the edit entry stays in the log: pages stay gap-free');
    const again = await one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'hello' }));
    t.match(again, { kind: 'unchanged', message: { seq: 1, body: 'hello', rev: 3 } }, 'the same body again is unchanged, with the rev that made it so');
    t.equal(await store.lastSeq(r), 3, 'and uses no seq');
  });

  t.test('edits are refused for someone else\'s message, a missing seq, an event, a forward, the window and a deletion', async (t) => {
    const r = room();
    await store.append([text(r, 1, 'mine'), text(r, 2, 'copy', { forwarded: { sender: 3, name: 'Cat' } })]);
    await one(store, change(r, 2, { type: 'message.reacted', seq: 1, emoji: '👍', on: true }));
    const cases: Array<[string, NewMessage, string]> = [
      ['someone else\'s message', change(r, 2, { type: 'message.edited', seq: 1, body: 'x' }), 'not_sender'],
      ['a seq that does not exist', change(r, 1, { type: 'message.edited', seq: 99, body: 'x' }), 'message_not_found'],
      ['an event rather than a message', change(r, 2, { type: 'message.edited', seq: 3, body: 'x' }), 'message_not_found'],
      ['a forwarded message', change(r, 2, { type: 'message.edited', seq: 2, body: 'x' }), 'not_editable'],
      ['a message older than the window', change(r, 1, { type: 'message.edited', seq: 1, body: 'x' }, { editableSince: Date.now() + 60_000 }), 'edit_window_closed'],
    ];
    for (const [what, entry, reason] of cases) t.match(await one(store, entry), { kind: 'refused', reason }, `${what}: ${reason}`);
    t.equal(await store.lastSeq(r), 3, 'nothing was stored');
    t.match(await current(store, r, 1), { body: 'mine', rev: 3 }, 'and the message is as it was');
    await one(store, change(r, 1, { type: 'message.deleted', seq: 1 }));
    t.match(await one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'x' })), { kind: 'refused', reason: 'message_deleted' }, 'a deleted message cannot be edited');
  });

  t.test('a deletion erases the body, its edits\' bodies and its reactions, and twice is fine', async (t) => {
    const r = room();
    await one(store, text(r, 1, 'secret'));
    await one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'more secret' }));
    await one(store, change(r, 2, { type: 'message.reacted', seq: 1, emoji: '❤️', on: true }));
    t.match(await one(store, change(r, 2, { type: 'message.deleted', seq: 1 })), { kind: 'refused', reason: 'not_sender' }, 'only the sender deletes in a 1:1 room');
    const deleted = await one(store, change(r, 1, { type: 'message.deleted', seq: 1 }));
    t.match(deleted, { kind: 'stored', message: { seq: 4, event: { type: 'message.deleted', seq: 1 } } }, 'the deletion is entry 4');
    const log = await store.after(r, 0, 10);
    t.same(log[0], { id: log[0]!.id, room: r, seq: 1, sender: 1, body: '', clientMsgId: log[0]!.clientMsgId, ts: log[0]!.ts, rev: 4, deleted: true }, 'the message is a tombstone: no body, no edit time, no reactions');
    t.same(log[1]?.event, { type: 'message.edited', seq: 1, body: '' }, 'the edit entry\'s body is erased too');
    t.notOk(JSON.stringify(log).includes('secret'), 'no read returns the text any more');
    t.match(await one(store, change(r, 1, { type: 'message.deleted', seq: 1 })), { kind: 'unchanged', message: { rev: 4, deleted: true } }, 'deleting again is unchanged');
    t.match(await one(store, change(r, 2, { type: 'message.reacted', seq: 1, emoji: '👍', on: true })), { kind: 'refused', reason: 'message_deleted' }, 'a deleted message takes no reaction');
    t.equal(await store.lastSeq(r), 4, 'nothing more was stored');
  });

  t.test('reactions toggle per user, in order, up to the limit', async (t) => {
    const r = room();
    await one(store, text(r, 1, 'react to me'));
    const react = (sender: number, emoji: '👍' | '❤️' | '😂' | '😮', on = true) => one(store, change(r, sender, { type: 'message.reacted', seq: 1, emoji, on }));
    t.match(await react(2, '👍'), { kind: 'stored', message: { seq: 2 } }, 'a reaction is an entry');
    await react(1, '👍');
    t.match(await current(store, r, 1), { reactions: { '👍': [2, 1] }, rev: 3 }, 'who reacted, in order');
    t.match(await react(2, '👍'), { kind: 'unchanged', message: { rev: 3 } }, 'a reaction already on is unchanged');
    await react(2, '❤️');
    await react(2, '😂');
    t.match(await react(2, '😮'), { kind: 'refused', reason: 'too_many_reactions' }, 'a fourth distinct reaction is refused');
    t.match(await react(2, '👍', false), { kind: 'stored' }, 'taking one off is an entry');
    t.match(await current(store, r, 1), { reactions: { '👍': [1], '❤️': [2], '😂': [2] } }, 'and only that user\'s goes');
    t.match(await react(3, '😮', false), { kind: 'unchanged' }, 'taking off one that is not on is unchanged');
    await react(1, '👍', false);
    await react(2, '❤️', false);
    await react(2, '😂', false);
    t.notOk('reactions' in (await current(store, r, 1))!, 'no reactions left: none listed');
  });

  t.test('a reply shows its original as it is now, and a deletion erases the preview', async (t) => {
    const r = room();
    await one(store, text(r, 1, 'x'.repeat(150)));
    const reply = await one(store, text(r, 2, 'answer', { replyTo: 1 }));
    t.match(reply, { kind: 'stored', message: { seq: 2, replyTo: { seq: 1, sender: 1, preview: 'x'.repeat(100) } } }, 'the stored reply carries the preview, 100 code units');
    t.same((await current(store, r, 2))?.replyTo, { seq: 1, sender: 1, preview: 'x'.repeat(100) }, 'reads carry it too');
    await one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'short' }));
    t.same((await store.before(r, undefined, 10)).find((m) => m.seq === 2)?.replyTo, { seq: 1, sender: 1, preview: 'short' }, 'an edit of the original shows in the preview');
    await one(store, change(r, 1, { type: 'message.deleted', seq: 1 }));
    t.same((await store.after(r, 1, 10))[0]?.replyTo, { seq: 1, sender: 1, preview: '', deleted: true }, 'after a deletion: no text, marked deleted');
    const fwd = await one(store, text(r, 2, 'copied', { forwarded: { sender: 7, name: 'Gus' } }));
    t.same((await current(store, r, fwd.message!.seq))?.forwarded, { sender: 7, name: 'Gus' }, 'a forward keeps its marker');
  });

  t.test('attachments are stored with their message, read back in order, and erased by a deletion', async (t) => {
    const r = room();
    const photo = { id: randomUUID(), name: 'cat.jpg', type: 'image/jpeg', size: 1234, width: 640, height: 480, placeholder: 'AbCdEf' };
    const pdf = { id: randomUUID(), name: 'a.pdf', type: 'application/pdf', size: 99 };
    const sent = await one(store, text(r, 1, '', { attachments: [photo, pdf] }));
    t.same(sent.message?.attachments, [photo, pdf], 'the stored message carries them, in order');
    t.same((await current(store, r, 1))?.attachments, [photo, pdf], 'reads carry them too');
    t.same((await store.after(r, 0, 10))[0]?.attachments, [photo, pdf], 'and pages');
    const retry = await store.append([{ ...text(r, 1, ''), clientMsgId: sent.message!.clientMsgId, attachments: [photo, pdf] }]);
    t.equal(retry[0]?.kind, 'duplicate', 'a retry is a duplicate');
    await one(store, change(r, 1, { type: 'message.deleted', seq: 1 }));
    t.equal((await current(store, r, 1))?.attachments, undefined, 'a deletion for everyone erases them');
  });

  t.test('two changes to one message at once are both applied, in log order', async (t) => {
    const r = room();
    await one(store, text(r, 1, 'busy'));
    const [a, b] = await Promise.all([
      one(store, change(r, 2, { type: 'message.reacted', seq: 1, emoji: '👍', on: true })),
      one(store, change(r, 1, { type: 'message.edited', seq: 1, body: 'busier' })),
    ]);
    t.same([a.kind, b.kind], ['stored', 'stored'], 'both are stored');
    t.match(await current(store, r, 1), { body: 'busier', reactions: { '👍': [2] }, rev: Math.max(a.message!.seq, b.message!.seq) }, 'neither is lost, and rev is the later seq');
    const batch = await store.append([change(r, 3, { type: 'message.reacted', seq: 1, emoji: '🔥', on: true }), change(r, 3, { type: 'message.reacted', seq: 1, emoji: '🔥', on: true })]);
    t.match(batch, [{ kind: 'stored', message: { seq: 4 } }, { kind: 'unchanged', message: { rev: 4 } }], 'a repeat in the same batch is unchanged, naming the first');
  });

  t.test('in a group, an admin deletes anyone\'s message, a member only theirs, and nobody reaches before their joining', async (t) => {
    const g = `g-${randomUUID()}`;
    await store.append([
      { room: g, sender: 1, body: '', clientMsgId: randomUUID(), event: { type: 'room.created', name: 'G', members: [{ user: 1, role: 'owner' }, { user: 2, role: 'member' }, { user: 3, role: 'member' }] }, change: { set: [{ user: 1, role: 'owner' }, { user: 2, role: 'member' }, { user: 3, role: 'member' }] }, op: { expect: 0 } },
      text(g, 2, 'from ben'),
      text(g, 3, 'from cat'),
    ]);
    t.match(await one(store, change(g, 3, { type: 'message.deleted', seq: 2 })), { kind: 'refused', reason: 'not_sender' }, 'a member cannot delete another\'s');
    t.match(await one(store, change(g, 1, { type: 'message.deleted', seq: 2 })), { kind: 'stored', message: { seq: 4 } }, 'the owner can');
    t.match(await one(store, change(g, 1, { type: 'message.edited', seq: 3, body: 'x' })), { kind: 'refused', reason: 'not_sender' }, 'but edits only their own');
    await one(store, { room: g, sender: 1, body: '', clientMsgId: randomUUID(), event: { type: 'member.added', user: 4, role: 'member' }, change: { set: [{ user: 4, role: 'member' }] }, op: { expect: 1 } });
    t.match(await one(store, change(g, 4, { type: 'message.reacted', seq: 3, emoji: '👍', on: true })), { kind: 'refused', reason: 'message_not_found' }, 'a member added later cannot reach an earlier message');
    await one(store, { room: g, sender: 1, body: '', clientMsgId: randomUUID(), event: { type: 'member.removed', user: 3 }, change: { remove: [3] }, op: { expect: 5 } });
    t.match(await one(store, change(g, 3, { type: 'message.edited', seq: 3, body: 'x' })), { kind: 'refused', reason: 'not_member' }, 'a removed member cannot edit');
    t.equal(await store.lastSeq(g), 6, 'only the accepted entries took seqs');
  });
}
