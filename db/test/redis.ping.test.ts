/**
 * The Redis stores' readiness ping does not wait in ioredis's offline queue: while the client is
 * not connected it rejects at once. The clients here retry once an hour, so a ping that queued
 * would wait an hour and this test would time out.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import t from 'tap';
import { RedisAttemptStore } from '../attempt.redis.ts';
import { RedisPresenceStore } from '../presence.redis.ts';
import { RedisRateLimitStore } from '../ratelimit.redis.ts';
import { RedisSessionStore } from '../session.redis.ts';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('a Redis store that is not connected is not ready, at once', async (t) => {
  const url = `redis://127.0.0.1:${await closedPort()}`;
  const stores = {
    sessions: (r: Redis) => new RedisSessionStore(r),
    attempts: (r: Redis) => new RedisAttemptStore(r),
    presence: (r: Redis) => new RedisPresenceStore(r, { nodeId: 'n1', ttlMs: 30_000 }),
    rateLimits: (r: Redis) => new RedisRateLimitStore(r),
  };
  for (const [name, make] of Object.entries(stores)) {
    const redis = new Redis(url, { retryStrategy: () => 3600_000, maxRetriesPerRequest: null });
    redis.on('error', () => {});
    t.teardown(() => redis.disconnect());
    await t.rejects(make(redis).ping(), { message: /not connected/ }, `the ${name} store's ping rejects without queueing`);
  }
});
