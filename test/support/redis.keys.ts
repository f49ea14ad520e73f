/**
 * A Redis key prefix of one test's own, with every key under it deleted when the test ends, so
 * test files sharing one Redis never see each other's keys.
 */
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { uniqueName } from './services.ts';

/** A fresh `name_<random>:` prefix on `url`, cleaned up in teardown; `admin` reads keys directly. */
export function freshRedisPrefix(t: Test, url: string, name: string): { prefix: string; admin: Redis } {
  const prefix = `${uniqueName(name)}:`;
  const admin = new Redis(url);
  t.teardown(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    await admin.quit();
  });
  return { prefix, admin };
}
