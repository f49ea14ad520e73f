import t from 'tap';
import { loadConfig } from '../router/src/config.ts';
import { loadWorkerConfig } from '../workers/src/config.ts';

t.test('routers and workers read the reconnect and pending-task settings, and refuse a cap below the minimum', async (t) => {
  const worker = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', AMQP_URL: 'amqp://x', SMTP_URL: 'smtp://x' };
  t.same(loadConfig({}).amqp, { reconnectMinMs: 100, reconnectMaxMs: 10_000, pendingTasksMax: 10_000 }, 'the router\'s defaults');
  t.same(loadWorkerConfig(worker).amqp, { reconnectMinMs: 100, reconnectMaxMs: 10_000, pendingTasksMax: 10_000 }, 'the worker\'s defaults');
  t.same(loadConfig({ AMQP_RECONNECT_MIN_MS: '20', AMQP_RECONNECT_MAX_MS: '500', TASK_PENDING_MAX: '7' }).amqp, { reconnectMinMs: 20, reconnectMaxMs: 500, pendingTasksMax: 7 }, 'values are read');
  const inverted = { AMQP_RECONNECT_MIN_MS: '500', AMQP_RECONNECT_MAX_MS: '20' };
  t.throws(() => loadConfig(inverted), /AMQP_RECONNECT_MAX_MS: must not be below AMQP_RECONNECT_MIN_MS/, 'the router refuses a cap below the minimum');
  t.throws(() => loadWorkerConfig({ ...worker, ...inverted }), /AMQP_RECONNECT_MAX_MS: must not be below AMQP_RECONNECT_MIN_MS/, 'so does the worker');
});
