import t from 'tap';
import { backoffDelay } from '../amqp.link.ts';

t.test('the reconnect delay doubles from the minimum up to the cap, jittered within the upper half of each step', async (t) => {
  const low = (attempt: number) => backoffDelay(attempt, 100, 10_000, () => 0);
  const high = (attempt: number) => backoffDelay(attempt, 100, 10_000, () => 0.999999);
  t.same([0, 1, 2, 3].map(high), [100, 200, 400, 800], 'the ceiling doubles per failed attempt');
  t.same([0, 1, 2, 3].map(low), [50, 100, 200, 400], 'and the least wait is half of it: never zero');
  t.same([7, 8, 50, 10_000].map(high), [10_000, 10_000, 10_000, 10_000], 'the ceiling stops at the cap, however many attempts failed');
  t.equal(low(50), 5000, 'half the cap at least, once capped');
  t.equal(backoffDelay(2, 100, 10_000, () => 0.5), 300, 'a jitter of one half lands in the middle of the step');
});
