/**
 * The README's configuration section is one table that documents every key the router and the
 * worker read: a paragraph inside it once cut it in two, and GitHub rendered the second half as text.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { CONFIG_KEYS as ROUTER_KEYS } from '../router/src/config.ts';
import { CONFIG_KEYS as WORKER_KEYS } from '../workers/src/config.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
const lines = section.split('\n');

t.test('the configuration table is one table', async (t) => {
  const rows = lines.flatMap((line, i) => (line.startsWith('|') ? [i] : []));
  t.ok(rows.length > 10, `the section has a table (${rows.length} rows)`);
  t.equal(rows.at(-1)! - rows[0]! + 1, rows.length, 'no line that is not a row sits between its rows');
});

t.test('every key the router and the worker read has a row or a mention', async (t) => {
  const documented = new Set([...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  t.same([...new Set([...ROUTER_KEYS, ...WORKER_KEYS])].filter((k) => !documented.has(k)).sort(), [], 'no key is missing');
});
