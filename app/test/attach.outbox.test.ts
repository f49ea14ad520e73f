import t from 'tap';
import { apply } from '../src/lib/chat/apply.ts';
import { outboxItem, sendFrame } from '../src/lib/chat/outbox.ts';
import { emptyRoom, emptyState } from '../src/lib/chat/state.ts';
import type { Attachment } from '../../protocol/frames.ts';

const photo: Attachment = { id: '3f0c6f0e-3f6a-4d5e-8a51-5b7f2b1f7a11', name: 'trip.png', type: 'image/png', size: 900, width: 40, height: 30, placeholder: 'AAAA' };
const pdf: Attachment = { id: '9a1d6f0e-3f6a-4d5e-8a51-5b7f2b1f7a22', name: 'plan.pdf', type: 'application/pdf', size: 400 };

t.test('a message with attachments goes out naming its uploads, the caption optional', async (t) => {
  const item = outboxItem('1-2', 2, '', 'c1', 1, { attachments: [photo, pdf] });
  t.ok(item, 'no caption is fine with attachments');
  t.same(item!.attachments, [photo, pdf], 'kept whole for the waiting bubble');
  t.same(sendFrame(item!), { type: 'message.send', clientMsgId: 'c1', body: '', to: 2, attachments: [photo.id, pdf.id] }, 'ids in the order shown');
  const captioned = outboxItem('g-1', undefined, 'from the trip', 'c2', 1, { attachments: [photo], replyTo: { seq: 3, sender: 2, preview: 'q' } })!;
  t.same(sendFrame(captioned), { type: 'message.send', clientMsgId: 'c2', body: 'from the trip', room: 'g-1', attachments: [photo.id], replyTo: 3 }, 'a caption and a reply too');
  t.equal(outboxItem('1-2', 2, '', 'c3', 1), null, 'without attachments an empty body is refused');
  t.equal(outboxItem('1-2', 2, '', 'c4', 1, { attachments: Array.from({ length: 11 }, () => photo) }), null, 'more than 10 is refused');
  t.equal(outboxItem('1-2', 2, 'x', 'c5', 1, { attachments: [] })!.attachments, undefined, 'an empty list is no attachments');
});

t.test('the acknowledged message keeps its attachments on the sending device', async (t) => {
  const state = emptyState();
  state.rooms['1-2'] = emptyRoom('1-2');
  state.outbox = [outboxItem('1-2', 2, '', 'c1', 1, { attachments: [photo, pdf] })!];
  apply(state, { type: 'message.sent', ref: 'c1', room: '1-2', id: 'mid', seq: 1, ts: 5, duplicate: false }, { me: 1, now: 5 });
  t.same(state.rooms['1-2']!.messages.at(-1)?.attachments, [photo, pdf], 'the bubble keeps its photos once sent (no message.new comes to the sender)');
});
