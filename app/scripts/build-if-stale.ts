/**
 * Builds the PWA into app/build unless it is already newer than every source it comes from
 * (app/src, app/static, the shared protocol/, the configs and package-lock.json). `npm install`
 * builds it (ops/prepare.ts); `npm start` (prestart), `npm test` (pretest) and the browser suites
 * run this again so a start after a `git pull` serves the new app and a test never runs an old
 * build. Quiet: one line when it builds, vite's output only when the build fails.
 * Run: node app/scripts/build-if-stale.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = join(root, 'app/build/index.html');
const sources = ['app/src', 'app/static', 'protocol', 'app/svelte.config.js', 'app/vite.config.ts', 'package-lock.json'];
// vite's own logging at warn: the per-file size table of a successful build is for `npm run build`.
const BUILD = ['run', 'build', '--silent', '--', '--logLevel', 'warn'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** True when app/build is missing or older than a source. */
export function appBuildStale(): boolean {
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return sources.some((s) => newest(join(root, s)) > builtAt);
}

function failed(status: number | null, output: string): Error {
  process.stderr.write(output);
  return new Error(`building the app failed (exit ${status}); vite's output is above`);
}

/** Builds when stale; throws when the build fails, after writing vite's output to stderr. */
export function buildAppIfStale(): void {
  if (!appBuildStale()) return;
  const r = spawnSync('npm', BUILD, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw failed(r.status, `${r.stdout}${r.stderr}`);
}

/** Builds now, without blocking the event loop (ops/prepare.ts runs it beside other work). */
export function buildApp(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', BUILD, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.once('error', reject);
    child.once('close', (status) => (status === 0 ? resolve() : reject(failed(status, output))));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && appBuildStale()) {
  const t0 = performance.now();
  console.log('building the app into app/build (it is missing or older than its sources)...');
  try {
    buildAppIfStale();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  console.log(`app built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
