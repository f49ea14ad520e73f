/**
 * The embedded default's template: made once (initdb and every migration), copied into a new data
 * directory instead of running initdb there, used only while it fits the installed PGlite and the
 * migrations, and caught up by the migrations added after it was made.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { migrations } from '../migrations/index.ts';
import { prepareTemplate } from '../pglite.prepare.ts';
import { pgliteVersion, readTemplate, seedDataDir, type TemplateInfo } from '../pglite.template.ts';
import { openRelational } from '../relational.ts';

const names = await migrations.getMigrations([]);
const root = await mkdtemp(join(tmpdir(), 'messenger-template-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
const template = join(root, 'template');
let n = 0;
const dataDir = () => join(root, `data-${++n}`, 'pg');

/** A copy of the template with its template.json replaced by `info` (the data left as it is). */
async function variant(info: Partial<TemplateInfo>): Promise<string> {
  const dir = join(root, `variant-${++n}`);
  await cp(template, dir, { recursive: true });
  await writeFile(join(dir, 'template.json'), JSON.stringify({ ...(await readTemplate(template)), ...info }));
  return dir;
}

t.test('prepareTemplate makes a template once, for this PGlite and every migration', async (t) => {
  t.equal(await prepareTemplate(template), 'made', 'made where there was none');
  t.same(await readTemplate(template), { pglite: pgliteVersion(), migrations: names }, 'template.json names the installed PGlite and every migration');
  t.ok(existsSync(join(template, 'data', 'PG_VERSION')), 'its data directory has been through initdb');
  t.equal(await prepareTemplate(template), 'current', 'a second run finds it current and leaves it');
  t.same((await readdir(root)).filter((f) => f.startsWith('template.new-')), [], 'no staging folder is left behind');
});

t.test('a new data directory is a copy of the template, with every migration applied', async (t) => {
  const marker = join(template, 'data', 'template-marker');
  await writeFile(marker, 'from the template');
  t.teardown(() => rm(marker, { force: true }));
  const dir = dataDir();
  t.equal(await seedDataDir(dir, template, names), 'template', 'seeded from the template');
  t.equal(await readFile(join(dir, 'template-marker'), 'utf8'), 'from the template', 'the files are the template\'s, not a new initdb\'s');
  t.same((await readdir(join(dir, '..'))).filter((f) => f.includes('.seed-')), [], 'the staging copy was renamed into place');
  const knex = await openRelational({ dataDir: dir, template });
  t.teardown(() => knex.destroy());
  const [done, pending] = (await knex.migrate.list({ migrationSource: migrations })) as [Array<{ name: string }>, unknown[]];
  t.same(done.map((m) => m.name), names, 'every migration is recorded as done');
  t.same(pending, [], 'none is pending');
  t.equal(await seedDataDir(dir, template, names), 'existing', 'a directory holding a database is left alone');
});

t.test('a template that does not fit is not used: PGlite runs initdb', async (t) => {
  const otherPglite = await variant({ pglite: '0.0.1' });
  t.equal(await seedDataDir(dataDir(), otherPglite, names), 'initdb', 'made by another PGlite version');
  const unknownMigration = await variant({ migrations: [...names, '999_from_another_branch'] });
  t.equal(await seedDataDir(dataDir(), unknownMigration, names), 'initdb', 'through a migration this checkout does not have');
  t.equal(await seedDataDir(dataDir(), join(root, 'nothing-here'), names), 'initdb', 'no template at all');
  t.equal(await seedDataDir(dataDir(), false, names), 'initdb', 'templates turned off');
});

t.test('a template made before the newest migrations is caught up at the first start', async (t) => {
  const last = names.at(-1)!;
  const behind = await variant({ migrations: names.slice(0, -1) });
  // Take the template's database back to before the last migration, as an older checkout made it.
  const knex0 = await openRelational({ dataDir: join(behind, 'data'), template: false });
  await knex0.migrate.down({ migrationSource: migrations });
  await knex0.destroy();
  const dir = dataDir();
  const opened: string[] = [];
  const knex = await openRelational({ dataDir: dir, template: behind, onPgliteOpened: (how) => opened.push(how) });
  t.teardown(() => knex.destroy());
  t.same(opened, ['template'], 'the data directory came from the older template');
  const [done] = (await knex.migrate.list({ migrationSource: migrations })) as [Array<{ name: string }>];
  t.equal(done.at(-1)?.name, last, `the start applied ${last}, which the template did not have`);
});
