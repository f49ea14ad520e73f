/**
 * Which real services the test run can use. Suites that need one call `need()`: without its URL
 * the suite says it skipped and why; in CI (CI=true) a missing URL fails the run instead, because
 * `.ci/run` provides every service that can run on this machine (all but MongoDB).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

import type { Test } from 'tap';

export const serviceUrls = {
  DATABASE_URL: process.env.DATABASE_URL || undefined,
  REDIS_URL: process.env.REDIS_URL || undefined,
  AMQP_URL: process.env.AMQP_URL || undefined,
  MONGO_URL: process.env.MONGO_URL || undefined,
} as const;

export type ServiceName = keyof typeof serviceUrls;

/** Services CI must provide; MongoDB is not installable on these machines. */
const requiredInCi: ServiceName[] = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL'];

/**
 * The URL of a service, or undefined after telling the test it skipped (and why). In CI a missing
 * required service throws.
 */
export function need(t: Test, name: ServiceName, what: string): string | undefined {
  const url = serviceUrls[name];
  if (url) return url;
  if (process.env.CI && requiredInCi.includes(name)) {
    throw new Error(`${name} is not set but CI must run the ${what} suite; .ci/run should have set it`);
  }
  t.comment(`SKIPPED ${what}: ${name} is not set`);
  return undefined;
}

/** A short random suffix to keep queues, exchanges, keys and databases of parallel tests apart. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Creates an empty PostgreSQL database for one test file and drops it when the test ends, so test
 * files running in parallel never see each other's rows.
 */
export async function freshPgDatabase(t: Test, baseUrl: string): Promise<string> {
  const name = uniqueName('t');
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: baseUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A MongoDB URL naming a database of its own for one test file, dropped when the test ends, so
 * test files sharing a MongoDB never see each other's rooms. The driver is loaded only when a test
 * asks for MongoDB, so runs without MONGO_URL never pay for it.
 */
export async function freshMongoDatabase(t: Test, baseUrl: string): Promise<string> {
  const name = uniqueName('history');
  // mongodb://[credentials@]host[:port][,host…][/db][?options]: WHATWG URLs refuse the host list.
  const parts = /^(mongodb(?:\+srv)?:\/\/[^/?]*)(?:\/[^?]*)?(\?.*)?$/.exec(baseUrl);
  if (!parts) throw new Error(`MONGO_URL is not a mongodb:// URL: ${baseUrl.replace(/\/\/[^@/]*@/, '//…@')}`);
  t.teardown(async () => {
    const { MongoClient } = await import('mongodb');
    const admin = new MongoClient(baseUrl);
    try {
      await admin.db(name).dropDatabase();
    } finally {
      await admin.close();
    }
  });
  return `${parts[1]}/${name}${parts[2] ?? ''}`;
}
