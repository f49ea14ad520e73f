/**
 * The embedded default's template: a PGlite data directory that has been through initdb and the
 * migrations, made once at install (`npm install` runs ops/prepare.ts; the image makes its own),
 * and copied into a new data directory at its first start. initdb in WebAssembly takes seconds and
 * runs a second PostgreSQL instance beside the first, so the first start without a template needs
 * several times the memory of every later one; a copy takes milliseconds.
 *
 * A template belongs to one PGlite version (the catalog must match the binary) and records the
 * migrations it has been through: it is used only while its PGlite is the one installed and each
 * of its migrations is still in db/migrations, and the start runs the migrations added since.
 * Anything else, or no template at all, and PGlite runs initdb as it always did.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What template.json beside the template's `data/` says. */
export interface TemplateInfo {
  /** The @electric-sql/pglite version that made it. */
  pglite: string;
  /** The migrations it has been through, in order. */
  migrations: string[];
}

// The package's folder, from its entry point (its package.json is not among its exports).
const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
const PACKAGE_DIR = entry.slice(0, entry.lastIndexOf('/dist/'));

/** The installed @electric-sql/pglite version. */
export function pgliteVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Where the template of the installed PGlite lives: `node_modules/.cache/messenger/pglite-<version>`,
 * beside the package itself, so reinstalling the packages (`npm ci`) drops it with them.
 */
export function defaultTemplateDir(): string {
  return join(dirname(dirname(PACKAGE_DIR)), '.cache', 'messenger', `pglite-${pgliteVersion()}`);
}

/** The template's info, or undefined when there is none (or it is unreadable). */
export async function readTemplate(templateDir: string): Promise<TemplateInfo | undefined> {
  try {
    return JSON.parse(await readFile(join(templateDir, 'template.json'), 'utf8')) as TemplateInfo;
  } catch {
    return undefined;
  }
}

/** True when `info` was made by the installed PGlite and each of its migrations is in `migrations`. */
export function templateFits(info: TemplateInfo | undefined, migrations: readonly string[]): info is TemplateInfo {
  return info !== undefined && info.pglite === pgliteVersion() && info.migrations.every((m) => migrations.includes(m));
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Fills a new data directory from the template when there is one that fits: `'template'` when it
 * did, `'existing'` when `dataDir` already holds a database, `'initdb'` when PGlite must make one.
 * The copy goes to a sibling folder first and is renamed into place, so a start interrupted
 * halfway leaves no half-copied database behind.
 */
export async function seedDataDir(dataDir: string, templateDir: string | false, migrations: readonly string[]): Promise<'template' | 'existing' | 'initdb'> {
  if (!(await isEmptyOrMissing(dataDir))) return 'existing';
  await mkdir(dirname(dataDir), { recursive: true });
  const info = templateDir === false ? undefined : await readTemplate(templateDir);
  if (templateDir === false || !templateFits(info, migrations)) return 'initdb';
  const staging = `${dataDir}.seed-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await cp(join(templateDir, 'data'), staging, { recursive: true });
    await rmdir(dataDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, dataDir);
    return 'template';
  } catch {
    // The template went away mid-copy (an install replacing it): initdb, as without one.
    await rm(staging, { recursive: true, force: true });
    return 'initdb';
  }
}
