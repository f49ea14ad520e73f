/**
 * A readiness PING for the Redis stores. ioredis queues a command issued while it is not connected
 * (its offline queue) and keeps it through reconnect attempts, so a plain PING against a Redis that
 * is down answers only when those attempts run out, seconds later. A store that is not connected
 * is not ready: say so at once, and PING only a connected client.
 */
import type { Redis } from 'ioredis';

/** Resolves when `redis` is connected and answers PING; rejects at once while it is not connected. */
export async function pingConnected(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is not connected (${redis.status})`);
  await redis.ping();
}
