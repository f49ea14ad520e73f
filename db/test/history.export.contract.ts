/**
 * The export part of the history contract (`sentBy`, docs/http-api.md "Exporting the account's
 * data"): one sender's text messages of a room, page by page, in their current state, never
 * anyone else's; run by history.contract.ts against every store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import type { MessageChange } from '../../protocol/frames.ts';
import type { HistoryStore, NewMessage } from '../history.port.ts';

const room = () => `exp-${randomBytes(6).toString('hex')}`;
const text = (r: string, sender: number, body: string, more: Partial<NewMessage> = {}): NewMessage => ({ room: r, sender, body, clientMsgId: randomUUID(), ...more });
const change = (r: string, sender: number, event: MessageChange): NewMessage => ({ room: r, sender, body: '', clientMsgId: randomUUID(), event });

export function historyExportContract(t: Test, store: HistoryStore): void {
  t.test('sentBy pages one sender\'s text messages of a room, oldest first, in their current state', async (t) => {
    const r = room();
    const other = room();
    await store.append([text(r, 1, 'one'), text(r, 2, 'not mine'), text(r, 1, 'two'), text(other, 1, 'another room'), text(r, 1, 'three'), text(r, 1, 'four')]);
    await store.append([change(r, 1, { type: 'message.edited', seq: 3, body: 'two, edited' })]);
    await store.append([change(r, 1, { type: 'message.deleted', seq: 4 })]);
    await store.append([text(r, 1, 'a reply', { replyTo: 2 })]);
    const first = await store.sentBy(r, 1, 0, 2);
    t.same(first.map((m) => m.seq), [1, 3], 'the first page: the sender\'s first two messages, skipping the other sender\'s');
    t.match(first[1], { body: 'two, edited', rev: 6 }, 'an edited message reads as edited');
    t.type(first[1]?.editedAt, 'number', 'with its edit time');
    const rest = await store.sentBy(r, 1, first.at(-1)!.seq, 100);
    t.same(rest.map((m) => m.seq), [4, 5, 8], 'the next page goes on after the last seq: the edit and deletion entries are not messages');
    t.match(rest[0], { seq: 4, body: '', deleted: true }, 'a message deleted for everyone is a tombstone');
    t.match(rest[2], { body: 'a reply', replyTo: { seq: 2 } }, 'a reply names its original');
    t.same(await store.sentBy(r, 1, 8, 100), [], 'nothing after the last');
    t.same((await store.sentBy(r, 2, 0, 100)).map((m) => m.body), ['not mine'], 'the other sender gets only their own');
    t.same(await store.sentBy(r, 3, 0, 100), [], 'someone who sent nothing gets nothing');
    t.same(await store.sentBy(r, 1, 0, 0), [], 'a limit of 0 reads nothing');
  });

  t.test('sentBy finds the sender\'s messages however many of others come between', async (t) => {
    const r = room();
    await store.append([text(r, 1, 'first'), ...Array.from({ length: 4500 }, (_, i) => text(r, 2, `other ${i}`)), text(r, 1, 'last'), text(r, 1, 'after')]);
    t.same((await store.sentBy(r, 1, 0, 2)).map((m) => m.body), ['first', 'last'], 'one page reaches past the others');
    t.same((await store.sentBy(r, 1, 1, 10)).map((m) => m.seq), [4502, 4503], 'from a seq on, too');
  });
}
