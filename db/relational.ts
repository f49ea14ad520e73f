/**
 * Opens the relational database: PostgreSQL when a URL is given, otherwise PGlite (PostgreSQL
 * compiled to WebAssembly) in a local directory, so the embedded default needs no server. Both run
 * the same knex migrations and the same Objection models.
 */
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import { Model } from 'objection';
import { migrations } from './migrations/index.ts';
import { createPglite } from './pglite.ts';
import { defaultTemplateDir, seedDataDir } from './pglite.template.ts';

// bigint counts and sequence numbers stay below 2^53; read them as numbers, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface RelationalOptions {
  /** postgres:// URL; when absent, PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite's data directory; `memory://` (or undefined) keeps everything in memory. */
  dataDir?: string | undefined;
  /** Most pooled connections to PostgreSQL; default 10. PGlite always has exactly one. */
  poolMax?: number;
  /**
   * The template a new PGlite data directory is copied from (pglite.template.ts); default the
   * installed one (node_modules/.cache/messenger), `false` for none (PGlite runs initdb).
   */
  template?: string | false;
  /** Told how a PGlite data directory was opened: made from the template, found, or made by initdb. */
  onPgliteOpened?: (how: 'template' | 'existing' | 'initdb') => void;
}

/** Opens the database, runs pending migrations and binds the Objection models to it. */
export async function openRelational(options: RelationalOptions): Promise<Knex> {
  const db = options.databaseUrl
    ? knexFactory({ client: 'pg', connection: options.databaseUrl, pool: { min: 0, max: options.poolMax ?? 10 } })
    : await openPglite(options);
  try {
    await db.migrate.latest({ migrationSource: migrations });
  } catch {
    // Two nodes starting at once on an empty database race to create knex's own tables; the loser
    // fails once, and on the second try finds the migrations done (or waits on knex's lock).
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 500));
    await db.migrate.latest({ migrationSource: migrations });
  }
  Model.knex(db);
  return db;
}

async function openPglite({ dataDir = 'memory://', template = defaultTemplateDir(), onPgliteOpened }: RelationalOptions): Promise<Knex> {
  if (!dataDir.startsWith('memory://')) {
    const how = await seedDataDir(dataDir, template, await migrations.getMigrations([]));
    onPgliteOpened?.(how);
  }
  return knexFactory({
    client: ClientPgLite as unknown as typeof Knex.Client,
    dialect: 'postgres',
    connection: { pglite: createPglite(dataDir) },
  } as Knex.Config);
}
