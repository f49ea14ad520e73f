/**
 * PGlite as the embedded default runs it: PostgreSQL compiled to WebAssembly inside the router's
 * process, sized for a personal server, and on its first start filled from the template
 * (pglite.template.ts) instead of running initdb.
 *
 * Memory: the WebAssembly heap only grows, and whatever PostgreSQL touched once stays resident
 * for the life of the process. PostgreSQL's defaults are sized for a server of its own: a 128 MB
 * buffer pool, allocated (and so touched) at start, and 64 MB for each index build. The settings
 * below shrink what is allocated up front, not what a query may use (work_mem is PostgreSQL's 4 MB).
 * Durability is PGlite's own and unchanged: every commit is written to the data directory's
 * files before it returns (the tests kill the process after an acknowledgement and find the
 * message), and PGlite keeps fsync off, so it is the operating system that puts them on disk.
 */
import { PGlite } from '@electric-sql/pglite';

/** The `-c name=value` settings PostgreSQL starts with, on top of PGlite's own start parameters. */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  // The buffer pool: a personal server's hot pages (users, rooms, the recent history) fit in
  // 16 MB, and a page not in it is read from the operating system's file cache, not the disk.
  shared_buffers: '16MB',
  // Index builds (the migrations; a REINDEX) sort in this much, then spill to temporary files.
  maintenance_work_mem: '16MB',
});

/** PGlite's start parameters with PGLITE_SETTINGS added. */
export function pgliteStartParams(): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}

/** A PGlite on `dataDir` (`memory://` keeps it in memory) with the embedded default's settings. */
export function createPglite(dataDir: string): PGlite {
  return new PGlite({ dataDir, startParams: pgliteStartParams() });
}
