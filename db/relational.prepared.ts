/**
 * A hot statement on the relational database, run on a connection from knex's pool without knex's
 * per-query work. On node-postgres it is a named prepared statement: each connection sends and
 * parses the text once, later runs send only the parameters, and PostgreSQL skips parsing and
 * analysis. PGlite (knex-pglite) has no named statements; there it runs through knex as before.
 */
import pg from 'pg';
import type { Knex } from 'knex';

/** Runs the statement with its parameters and resolves with the rows it returned. */
export type PreparedStatement<Row> = (values: readonly unknown[]) => Promise<Row[]>;

/** `sql` uses knex's `?` placeholders, so the PGlite path is an ordinary `knex.raw`. */
export function prepare<Row>(db: Knex, name: string, sql: string): PreparedStatement<Row> {
  // knex's pg client drives node-postgres; knex-pglite's client, though derived from it, has no driver.
  if (db.client.driver !== pg) {
    return async (values) => (await db.raw<{ rows: Row[] }>(sql, values as Knex.RawBinding[])).rows;
  }
  const text: string = db.client.positionBindings(sql);
  const configured = new WeakSet<pg.Client>();
  return async (values) => {
    const connection: pg.Client = await db.client.acquireConnection();
    try {
      if (!configured.has(connection)) {
        // After five runs PostgreSQL would switch a prepared statement to a generic plan, made once
        // and kept: made while a table is still small (a fresh database), it scans the whole table,
        // and goes on doing so as the table grows to millions of rows. A plan per run always fits
        // the table as it is. Unnamed statements, all that knex sends, get one anyway.
        await connection.query('SET plan_cache_mode = force_custom_plan');
        configured.add(connection);
      }
      return (await connection.query({ name, text, values: values as unknown[] })).rows as Row[];
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
}
