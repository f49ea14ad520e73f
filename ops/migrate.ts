/**
 * One-shot migration runner for the full stack (compose's `migrate` service): brings the PostgreSQL
 * schema to the latest migration and exits, so router nodes starting together never race on it.
 * Routers run the same migrations at start; after this they find nothing to do.
 *
 * Exit codes: 0 migrated (or already current), 1 the database refused or a migration failed,
 * 2 DATABASE_URL missing or not a postgres:// URL.
 */
import { openRelational } from '../db/relational.ts';
import { opsConfig } from './ops.config.ts';

const { databaseUrl } = opsConfig;

function usage(problem: string): never {
  console.error(`migrate: ${problem}\nusage: DATABASE_URL=postgres://user:pass@host:5432/db node ops/migrate.ts`);
  process.exit(2);
}

if (!databaseUrl) usage('DATABASE_URL is not set (the embedded PGlite default migrates itself at router start)');
if (!URL.canParse(databaseUrl) || !['postgres:', 'postgresql:'].includes(new URL(databaseUrl).protocol)) {
  usage('DATABASE_URL must be a postgres:// or postgresql:// URL');
}

// Where the log says which database was migrated, never with its password.
const target = new URL(databaseUrl);
target.password = '';
const where = `${target.hostname}:${target.port || 5432}${target.pathname}`;

try {
  const knex = await openRelational({ databaseUrl, poolMax: 1 });
  try {
    const done = await knex('knex_migrations').orderBy('id').pluck('name');
    console.log(`migrate: ${where} is at the latest migration (${done.length} applied, last ${done.at(-1) ?? 'none'})`);
  } finally {
    await knex.destroy();
  }
} catch (err) {
  console.error(`migrate: failed on ${where}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
