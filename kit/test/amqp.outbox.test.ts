import t from 'tap';
import { ManualTimers } from '../../test/support/manual.timers.ts';
import { TaskOutbox } from '../amqp.outbox.ts';

/** An outbox over a fake channel: `sent` records every send, `answer` confirms or fails one. */
function outbox(max = 10) {
  const timers = new ManualTimers();
  let up = true;
  const sent: Array<{ body: string; confirmed: (err: unknown) => void }> = [];
  const box = new TaskOutbox({
    max,
    minMs: 100,
    maxMs: 1000,
    timers,
    send: (_queue, content, _headers, confirmed) => {
      if (!up) return false;
      sent.push({ body: content.toString(), confirmed });
      return true;
    },
  });
  const add = (body: string) => {
    const state = { settled: '' };
    box.add('q', Buffer.from(body), {}).then(
      () => (state.settled = 'confirmed'),
      (err: Error) => (state.settled = err.message),
    );
    return state;
  };
  return { box, timers, sent, add, down: () => (up = false), up: () => (up = true), bodies: () => sent.map((s) => s.body) };
}

const settle = () => new Promise((r) => setImmediate(r));

t.test('a confirmed task is never sent again', async (t) => {
  const o = outbox();
  const a = o.add('a');
  o.sent[0]!.confirmed(null);
  await settle();
  t.equal(a.settled, 'confirmed', 'its publish resolves on the confirm');
  o.box.resend();
  t.same(o.bodies(), ['a'], 'a resend after the confirm sends nothing');
  t.equal(o.box.stats.pending, 0, 'nothing is pending');
});

t.test('a task whose confirm was lost with the channel is sent again when the link is back, once', async (t) => {
  const o = outbox();
  const a = o.add('a');
  const b = o.add('b');
  o.sent[0]!.confirmed(null);
  o.down();
  o.sent[1]!.confirmed(new Error('channel closed'));
  const c = o.add('c');
  t.same(o.bodies(), ['a', 'b'], 'nothing is sent while the link is down');
  t.equal(o.box.stats.pending, 2, 'b and c wait');
  o.timers.fireAll();
  t.same(o.bodies(), ['a', 'b'], 'the backoff retry sends nothing while the link is down');
  o.up();
  o.box.resend();
  o.box.resend();
  t.same(o.bodies(), ['a', 'b', 'b', 'c'], 'b and c are sent again in publish order, once each, however often resend runs');
  o.sent[1]!.confirmed(null);
  o.sent[2]!.confirmed(null);
  o.sent[3]!.confirmed(null);
  await settle();
  t.same([a.settled, b.settled, c.settled], ['confirmed', 'confirmed', 'confirmed'], 'every publish resolves; the stale confirm of b\'s first send changed nothing');
});

t.test('a nacked task is sent again after a backoff that grows while the broker keeps refusing', async (t) => {
  const o = outbox();
  const a = o.add('a');
  o.sent[0]!.confirmed(new Error('message nacked'));
  t.same(o.timers.delays.length, 1, 'one retry is scheduled');
  t.ok(o.timers.delays[0]! >= 50 && o.timers.delays[0]! <= 100, `within the first step (${o.timers.delays[0]} ms)`);
  o.timers.fireAll();
  t.same(o.bodies(), ['a', 'a'], 'sent again when the retry fires');
  o.sent[1]!.confirmed(new Error('message nacked'));
  t.ok(o.timers.delays[0]! >= 100 && o.timers.delays[0]! <= 200, `the next wait doubles (${o.timers.delays[0]} ms)`);
  o.timers.fireAll();
  o.sent[2]!.confirmed(null);
  await settle();
  t.equal(a.settled, 'confirmed', 'it resolves once the broker takes it');
});

t.test('past the bound a new task is refused at once and counted; abandon rejects what is kept', async (t) => {
  const o = outbox(2);
  o.down();
  const kept = [o.add('a'), o.add('b')];
  const refused = o.add('c');
  await settle();
  t.match(refused.settled, /2 tasks are already waiting .*TASK_PENDING_MAX/, 'the third is refused, naming the bound');
  t.same(o.box.stats, { pending: 2, refused: 1 }, 'two kept, one refused');
  t.equal(o.box.abandon('closing'), 2, 'abandon says how many were never confirmed');
  await settle();
  t.same(kept.map((k) => k.settled), ['closing', 'closing'], 'and rejects them');
  t.equal(o.timers.pending, 0, 'no timer is left');
});
