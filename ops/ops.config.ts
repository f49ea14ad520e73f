/**
 * The ops scripts' configuration (migrate.ts, history-counters.ts): the environment, read once,
 * here. Each script checks the one key it needs and says what is wrong with it.
 */
export const opsConfig = Object.freeze({
  /** DATABASE_URL: the PostgreSQL database migrate.ts migrates; '' when unset. */
  databaseUrl: process.env.DATABASE_URL ?? '',
  /** MONGO_URL: the MongoDB history whose counters history-counters.ts raises; '' when unset. */
  mongoUrl: process.env.MONGO_URL ?? '',
});
