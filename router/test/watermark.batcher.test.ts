/**
 * The receipt watermark batcher on a manual clock: writes happen when its interval has passed by
 * that clock, whatever the machine's speed.
 */
import t from 'tap';
import type { RelationalStore, WatermarkUpdate } from '../../db/relational.port.ts';
import { ManualScheduler } from '../../test/support/clock.ts';
import { waitFor } from '../../test/support/wait.ts';
import { WatermarkBatcher } from '../src/chat/watermark.batcher.ts';

/** A store that records each write, and fails the writes it is told to. */
function recordingStore(failures = 0) {
  const writes: WatermarkUpdate[][] = [];
  let calls = 0;
  const store = {
    async raiseWatermarks(updates: readonly WatermarkUpdate[]) {
      calls++;
      if (calls <= failures) throw new Error('the database is away');
      writes.push([...updates]);
    },
  } as unknown as RelationalStore;
  return { store, writes, calls: () => calls };
}

t.test('receipts gather for one interval and are written together, highest first', async (t) => {
  const clock = new ManualScheduler();
  const { store, writes, calls } = recordingStore();
  const batcher = new WatermarkBatcher(store, (err) => t.fail(String(err)), 100, clock);
  batcher.raise('1-2', 1, 'delivered', 3);
  batcher.raise('1-2', 1, 'read', 2);
  batcher.raise('1-2', 1, 'delivered', 5);
  batcher.raise('1-2', 2, 'delivered', 4);
  clock.advance(99);
  t.equal(clock.pending, 1, 'the write waits for its timer until the interval has passed');
  t.equal(calls(), 0, 'so nothing is written yet');
  clock.advance(1);
  t.ok(await waitFor(() => writes.length === 1), 'one write once it has');
  t.same(writes[0], [{ room: '1-2', user: 1, delivered: 5, read: 2 }, { room: '1-2', user: 2, delivered: 4 }], 'with the highest watermark per room and user');
  clock.advance(1_000);
  t.equal(clock.pending, 0, 'and no timer is left once nothing is pending');
  t.equal(calls(), 1, 'so nothing more is written');
});

t.test('a failed write keeps its receipts and is tried again after ten intervals', async (t) => {
  const clock = new ManualScheduler();
  const { store, writes, calls } = recordingStore(1);
  const errors: unknown[] = [];
  const batcher = new WatermarkBatcher(store, (err) => errors.push(err), 100, clock);
  batcher.raise('1-2', 1, 'delivered', 3);
  clock.advance(100);
  t.ok(await waitFor(() => errors.length === 1), 'the failure is reported');
  batcher.raise('1-2', 1, 'read', 4);
  clock.advance(999);
  t.equal(clock.pending, 1, 'the second try waits for its timer until ten intervals have passed');
  t.equal(calls(), 1, 'so there is no second try yet');
  clock.advance(1);
  t.ok(await waitFor(() => writes.length === 1), 'the second try writes');
  t.same(writes[0], [{ room: '1-2', user: 1, delivered: 4, read: 4 }], 'the kept receipts merged with the newer one');
});
