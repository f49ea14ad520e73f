import t from 'tap';
import { loadConfig } from '../../router/src/config.ts';
import { backoffDelay } from '../../kit/amqp.link.ts';
import { loadWorkerConfig } from '../src/config.ts';

t.test('the reconnect delay doubles from the minimum up to the cap, jittered within the upper half of each step', async (t) => {
  const low = (attempt: number) => backoffDelay(attempt, 100, 10_000, () => 0);
  const high = (attempt: number) => backoffDelay(attempt, 100, 10_000, () => 0.999999);
  t.same([0, 1, 2, 3].map(high), [100, 200, 400, 800], 'the ceiling doubles per failed attempt');
  t.same([0, 1, 2, 3].map(low), [50, 100, 200, 400], 'and the least wait is half of it: never zero');
  t.same([7, 8, 50, 10_000].map(high), [10_000, 10_000, 10_000, 10_000], 'the ceiling stops at the cap, however many attempts failed');
  t.equal(low(50), 5000, 'half the cap at least, once capped');
  t.equal(backoffDelay(2, 100, 10_000, () => 0.5), 300, 'a jitter of one half lands in the middle of the step');
});

t.test('routers and workers read the reconnect and pending-task settings, and refuse a cap below the minimum', async (t) => {
  const worker = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', AMQP_URL: 'amqp://x', SMTP_URL: 'smtp://x' };
  t.same(loadConfig({}).amqp, { reconnectMinMs: 100, reconnectMaxMs: 10_000, pendingTasksMax: 10_000 }, 'the router\'s defaults');
  t.same(loadWorkerConfig(worker).amqp, { reconnectMinMs: 100, reconnectMaxMs: 10_000, pendingTasksMax: 10_000 }, 'the worker\'s defaults');
  t.same(loadConfig({ AMQP_RECONNECT_MIN_MS: '20', AMQP_RECONNECT_MAX_MS: '500', TASK_PENDING_MAX: '7' }).amqp, { reconnectMinMs: 20, reconnectMaxMs: 500, pendingTasksMax: 7 }, 'values are read');
  const inverted = { AMQP_RECONNECT_MIN_MS: '500', AMQP_RECONNECT_MAX_MS: '20' };
  t.throws(() => loadConfig(inverted), /AMQP_RECONNECT_MAX_MS: must not be below AMQP_RECONNECT_MIN_MS/, 'the router refuses a cap below the minimum');
  t.throws(() => loadWorkerConfig({ ...worker, ...inverted }), /AMQP_RECONNECT_MAX_MS: must not be below AMQP_RECONNECT_MIN_MS/, 'so does the worker');
});
