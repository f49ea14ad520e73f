/**
 * The one configuration of the micro-benchmarks in this folder: the services they run against,
 * read from the environment once, with this machine's loopback services as defaults.
 */
export const benchConfig = {
  /** The server a throwaway database is created on (append bench). */
  databaseUrl: process.env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test',
  /** Redis (presence bench); keys go under a unique prefix. */
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
} as const;
