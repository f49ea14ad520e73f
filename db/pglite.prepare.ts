/**
 * Makes the embedded default's template (pglite.template.ts): a data directory that has been
 * through initdb and every migration, for the installed PGlite. Run at install by ops/prepare.ts
 * and in the image by the Dockerfile; by hand: `node db/pglite.prepare.ts`.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrations } from './migrations/index.ts';
import { defaultTemplateDir, pgliteVersion, readTemplate, type TemplateInfo } from './pglite.template.ts';
import { openRelational } from './relational.ts';

/**
 * Makes the template in `templateDir` (default: the installed PGlite's) unless one made by this
 * PGlite through exactly these migrations is there already. Made beside it and renamed into
 * place, so a start that copies it never sees half a template.
 */
export async function prepareTemplate(templateDir = defaultTemplateDir()): Promise<'made' | 'current'> {
  const names = await migrations.getMigrations([]);
  const current = await readTemplate(templateDir);
  if (current?.pglite === pgliteVersion() && current.migrations.join('\n') === names.join('\n')) return 'current';
  const staging = `${templateDir}.new-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const knex = await openRelational({ dataDir: join(staging, 'data'), template: false });
    await knex.destroy();
    const info: TemplateInfo = { pglite: pgliteVersion(), migrations: names };
    await writeFile(join(staging, 'template.json'), `${JSON.stringify(info, null, 2)}\n`);
    await rm(templateDir, { recursive: true, force: true });
    await rename(staging, templateDir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another install made it at the same time: theirs is as good as ours.
    const made = await readTemplate(templateDir);
    if (made?.pglite === pgliteVersion() && made.migrations.join('\n') === names.join('\n')) return 'current';
    throw err;
  }
  return 'made';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const outcome = await prepareTemplate();
  console.log(`embedded database template ${outcome === 'made' ? `made in ${((performance.now() - t0) / 1000).toFixed(1)} s` : 'already current'}: ${defaultTemplateDir()}`);
}
