/**
 * The floor plan, checked: no import circles anywhere, and each layer imports only the layers
 * below it. The router reaches the workers only through their task contract (workers/tasks), the
 * workers never reach the router, and the wire protocol imports nothing but itself. A new import
 * that crosses a wall fails here with the file and the import named.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import t from 'tap';

const root = fileURLToPath(new URL('../', import.meta.url));
const SOURCES = ['protocol', 'kit', 'db', 'workers', 'router', 'ops', 'test', 'app/src', 'app/scripts'].map((d) => `${d}/**/*.ts`);

/** Each folder and what it may import; the first matching prefix wins. Tests may also use test/support. */
const LAYERS: Array<{ folder: string; may: string[] }> = [
  { folder: 'protocol/', may: ['protocol/'] },
  { folder: 'kit/', may: ['kit/', 'protocol/'] },
  { folder: 'db/', may: ['db/', 'kit/', 'protocol/'] },
  // The one door from the contract into the runtime: the embedded default's in-process workers.
  { folder: 'workers/tasks/embedded.ts', may: ['workers/', 'kit/', 'db/', 'protocol/'] },
  { folder: 'workers/tasks/', may: ['workers/tasks/', 'kit/', 'db/', 'protocol/'] },
  { folder: 'workers/', may: ['workers/', 'kit/', 'db/', 'protocol/'] },
  { folder: 'router/', may: ['router/', 'workers/tasks/', 'kit/', 'db/', 'protocol/'] },
  { folder: 'app/src/', may: ['app/src/', 'protocol/'] },
];

const tree = await parseDependencyTree(SOURCES, {
  context: root,
  extensions: ['.ts'],
  js: ['.ts'],
  include: /\.ts$/,
  exclude: /node_modules/,
  tsconfig: `${root}tsconfig.json`,
  transform: false,
  skipDynamicImports: false,
});
const files = Object.keys(tree).filter((f) => !f.includes('node_modules'));

t.test('the analysis sees the whole tree', async (t) => {
  for (const file of ['router/src/main.ts', 'router/src/node.ts', 'workers/src/main.ts', 'protocol/frames.ts', 'app/src/lib/api.ts']) {
    t.ok(files.includes(file), `${file} was analysed`);
  }
  t.ok(files.length > 150, `${files.length} files analysed`);
});

t.test('no import circles, type-only imports included', async (t) => {
  const circles = parseCircular(tree).map((c) => c.join(' -> '));
  t.same(circles, [], 'every import graph is a tree of layers');
});

t.test('each layer imports only the layers below it', async (t) => {
  const crossings: string[] = [];
  for (const file of files) {
    const layer = LAYERS.find((l) => file.startsWith(l.folder));
    if (!layer) continue;
    const isTest = /\/(test|bench)\//.test(file);
    for (const dep of tree[file] ?? []) {
      // Ids are paths from the root; packages and Node's own modules are not layers.
      if (!dep.id || dep.id.includes('node_modules') || !existsSync(`${root}${dep.id}`)) continue;
      const target = dep.id.replaceAll('\\', '/');
      if (layer.may.some((p) => target.startsWith(p))) continue;
      if (isTest && target.startsWith('test/support/')) continue;
      crossings.push(`${file} imports ${target}`);
    }
  }
  t.same(crossings, [], 'no import crosses a wall');
});

/** The first-column code spans of a markdown table under `heading` in `file`. */
function tableFirstColumn(file: string, heading: string): string[] {
  const text = readFileSync(`${root}${file}`, 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`${file} has no "${heading}"`);
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(/\n#{1,3} /);
  return (end < 0 ? rest : rest.slice(0, end))
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(`${root}${f}`));

t.test("the router README's file table names every file of router/src, and only those", async (t) => {
  const listed = tableFirstColumn('router/README.md', '## Files').sort();
  const present = tracked.filter((f) => f.startsWith('router/src/')).map((f) => f.slice('router/src/'.length)).sort();
  t.same(listed.filter((f) => !present.includes(f)), [], 'no row names a file that is gone');
  t.same(present.filter((f) => !listed.includes(f)), [], 'every file has a row');
});

t.test("the README's layout table names every folder, and only folders that exist", async (t) => {
  const listed = tableFirstColumn('README.md', '## Layout').map((f) => f.replace(/\/$/, ''));
  const folders = new Set(tracked.filter((f) => f.includes('/')).map((f) => f.split('/')[0]!));
  for (const f of tracked.filter((f) => /^(router\/src|workers)\/[^/]+\//.test(f))) folders.add(f.split('/').slice(0, f.startsWith('router') ? 3 : 2).join('/'));
  t.same(listed.filter((f) => !existsSync(`${root}${f}`)), [], 'no row names a folder that is gone');
  t.same([...folders].filter((f) => !f.startsWith('.') && !listed.includes(f)).sort(), [], 'every folder has a row');
});

t.test('the image holds every folder the router and the worker import', async (t) => {
  // The transitive imports of each process's entry, as top-level folders.
  const reached = new Set<string>();
  const walk = (file: string): void => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const dep of tree[file] ?? []) if (dep.id && !dep.id.includes('node_modules') && existsSync(`${root}${dep.id}`)) walk(dep.id);
  };
  for (const entry of ['router/src/main.ts', 'workers/src/main.ts', 'ops/migrate.ts']) walk(entry);
  const folders = new Set([...reached].map((f) => f.split('/')[0]!));
  const dockerfile = readFileSync(`${root}ops/Dockerfile`, 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
  const copied = new Set([...runtime.matchAll(/^COPY --from=build \/app\/([^ /]+) /gm)].map((m) => m[1]!));
  t.ok(folders.has('kit') && folders.has('router'), `the entries reach ${[...folders].join(', ')}`);
  t.same([...folders].filter((f) => !copied.has(f)), [], 'the runtime stage copies each of them');
});
