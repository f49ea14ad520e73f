import t from 'tap';
import { ManualScheduler } from '../../test/support/clock.ts';
import type { AppendOutcome, HistoryStore, NewMessage } from '../../db/history.port.ts';
import { HistoryBatcher } from '../src/chat/history.batcher.ts';

/**
 * A recording store whose appends finish only when the test says so, to observe what the batcher
 * puts in flight. Not a history store: it only answers `append`.
 */
function gatedRecordingStore() {
  const batches: Array<{ rooms: string[]; bodies: string[]; finish(): void }> = [];
  let seq = 0;
  const store = {
    append(batch: readonly NewMessage[]): Promise<AppendOutcome[]> {
      return new Promise((resolve) => {
        batches.push({
          rooms: [...new Set(batch.map((m) => m.room))],
          bodies: batch.map((m) => m.body),
          finish: () =>
            resolve(
              batch.map((m) => ({
                kind: 'stored',
                message: { room: m.room, sender: m.sender, body: m.body, clientMsgId: m.clientMsgId, id: String(++seq), seq, ts: 0 },
              })),
            ),
        });
      });
    },
  } as unknown as HistoryStore;
  return { store, batches };
}

const msg = (room: string, body: string): NewMessage => ({ room, sender: 1, body, clientMsgId: body });
const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('appends arriving while a batch is written travel together in the next one', async (t) => {
  const { store, batches } = gatedRecordingStore();
  const batcher = new HistoryBatcher(store, { maxInFlight: 1 });
  const first = batcher.append(msg('r1', 'a'));
  await tick();
  const later = ['b', 'c', 'd'].map((b) => batcher.append(msg(`r-${b}`, b)));
  await tick();
  t.equal(batches.length, 1, 'one batch in flight');
  batches[0]!.finish();
  await first;
  await tick();
  t.same(batches[1]?.bodies, ['b', 'c', 'd'], 'the three waiting appends form the next batch');
  batches[1]!.finish();
  t.same((await Promise.all(later)).map((o) => o.kind), ['stored', 'stored', 'stored'], 'each gets its outcome');
});

t.test('batches of different rooms are written concurrently, but a room is never in two at once', async (t) => {
  const { store, batches } = gatedRecordingStore();
  const batcher = new HistoryBatcher(store, { maxInFlight: 4, parallelAfter: 1 });
  void batcher.append(msg('busy', 'm1'));
  await tick();
  void batcher.append(msg('busy', 'm2'));
  void batcher.append(msg('other', 'o1'));
  void batcher.append(msg('busy', 'm3'));
  await tick();
  t.equal(batches.length, 2, 'a second batch started while the first is in flight');
  t.same(batches[1]!.bodies, ['o1'], 'it holds only the room that is not in flight');
  batches[0]!.finish();
  await tick();
  await tick();
  t.same(batches[2]?.bodies, ['m2', 'm3'], "the busy room's messages follow, in submission order");
  batches[1]!.finish();
  batches[2]!.finish();
  await batcher.drained();
  t.pass('drained');
});

t.test('under light load a further concurrent batch waits until enough messages queue or the oldest waited', async (t) => {
  const { store, batches } = gatedRecordingStore();
  const clock = new ManualScheduler();
  const batcher = new HistoryBatcher(store, { maxInFlight: 4, parallelAfter: 3, parallelAfterMs: 50, scheduler: clock });
  void batcher.append(msg('a', 'a1'));
  await tick();
  void batcher.append(msg('b', 'b1'));
  await tick();
  t.equal(batches.length, 1, 'one waiting message does not start a second transaction at once');
  void batcher.append(msg('c', 'c1'));
  void batcher.append(msg('d', 'd1'));
  await tick();
  t.same(batches[1]?.bodies, ['b1', 'c1', 'd1'], 'three waiting messages do');
  void batcher.append(msg('e', 'e1'));
  await tick();
  clock.advance(49);
  await tick();
  t.equal(batches.length, 2, 'a lone message waits while it has waited less than parallelAfterMs');
  clock.advance(1);
  await tick();
  t.same(batches[2]?.bodies, ['e1'], 'a lone message goes once it has waited parallelAfterMs');
  for (const b of batches) b.finish();
  await batcher.drained();
});

t.test('a failed batch rejects its appends and the next batch still goes', async (t) => {
  let calls = 0;
  const store = {
    async append(batch: readonly NewMessage[]) {
      if (++calls === 1) throw new Error('store down');
      return batch.map((m, i) => ({ kind: 'stored', message: { ...m, id: String(i), seq: i + 1, ts: 0 } }));
    },
  } as unknown as HistoryStore;
  const batcher = new HistoryBatcher(store);
  await t.rejects(batcher.append(msg('r', 'x')), /store down/, 'the append of the failed batch rejects');
  t.match(await batcher.append(msg('r', 'y')), { kind: 'stored' }, 'the next append is stored');
});
