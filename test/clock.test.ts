/** The manual scheduler the timing tests rely on: time moves only in advance(), timers fire in order. */
import t from 'tap';
import { systemScheduler } from '../db/clock.ts';
import { ManualScheduler } from './support/clock.ts';

t.test('timers fire in the order they fall due, each seeing its own due time', async (t) => {
  const clock = new ManualScheduler(1_000);
  const seen: string[] = [];
  clock.after(30, () => seen.push(`b@${clock.now()}`));
  clock.after(10, () => seen.push(`a@${clock.now()}`));
  clock.after(30, () => seen.push(`c@${clock.now()}`));
  const every = clock.every(20, () => seen.push(`e@${clock.now()}`));
  clock.advance(29);
  t.same(seen, ['a@1010', 'e@1020'], 'only what fell due within the step ran');
  clock.advance(31);
  t.same(seen, ['a@1010', 'e@1020', 'b@1030', 'c@1030', 'e@1040', 'e@1060'], 'ties run in the order they were scheduled; a repeating timer repeats');
  t.equal(clock.now(), 1_060, 'now() ends where the step ends');
  every.cancel();
  clock.advance(100);
  t.equal(seen.length, 6, 'a cancelled timer never runs again');
  t.equal(clock.pending, 0, 'and nothing is pending');
});

t.test('a timer set by a timer runs within the same step when it falls due', async (t) => {
  const clock = new ManualScheduler(0);
  const seen: number[] = [];
  clock.after(10, () => clock.after(5, () => seen.push(clock.now())));
  clock.advance(15);
  t.same(seen, [15], 'the inner timer ran at its due time');
});

t.test('the system scheduler runs callbacks on real timers', async (t) => {
  const ran = await new Promise<number>((resolve) => systemScheduler.after(1, () => resolve(systemScheduler.now()), { keepAlive: true }));
  t.ok(Math.abs(ran - Date.now()) < 60_000, 'now() is the real time');
  let fired = 0;
  const timer = systemScheduler.every(1, () => void fired++);
  await new Promise<void>((resolve) => systemScheduler.after(20, resolve, { keepAlive: true }));
  timer.cancel();
  const after = fired;
  t.ok(after > 0, 'a repeating timer fires');
  await new Promise<void>((resolve) => systemScheduler.after(20, resolve, { keepAlive: true }));
  t.equal(fired, after, 'and stops once cancelled');
});
