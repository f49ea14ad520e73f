/**
 * What `npm install` (npm's `prepare`) does after installing the packages, so that the first
 * `npm start` only starts: builds the app into app/build when it is stale, and makes the embedded
 * default's database template (db/pglite.template.ts), both at once. Quiet: two lines, and a
 * failed build's output. Run by hand: `node ops/prepare.ts` (on an older Node, `npx tsx ops/prepare.ts`).
 */
import { appBuildStale, buildApp } from '../app/scripts/build-if-stale.ts';
import { prepareTemplate } from '../db/pglite.prepare.ts';

const seconds = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const t0 = performance.now();
const building = appBuildStale();
console.log(`messenger: ${building ? 'building the app and ' : ''}preparing the embedded database, once, so that \`npm start\` starts at once...`);
const [app, template] = await Promise.allSettled([
  building ? buildApp().then(() => `app built in ${seconds(t0)}`) : Promise.resolve('app already built'),
  prepareTemplate().then((outcome) => `database template ${outcome === 'made' ? `made in ${seconds(t0)}` : 'already current'}`),
]);
if (app.status === 'rejected') {
  console.error(`messenger: ${(app.reason as Error).message}`);
  process.exit(1);
}
// Without a template the first start runs initdb instead (slower, more memory): not worth failing the install for.
const made = template.status === 'fulfilled' ? template.value : `no database template (${(template.reason as Error).message}); the first start will make the database itself`;
console.log(`messenger: ${app.value}, ${made}. Start it with: npm start`);
