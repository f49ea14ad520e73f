/**
 * Builds the PWA into app/build unless it is already newer than every source it comes from
 * (app/src, app/static, the shared protocol/, the configs and package-lock.json). Used by
 * `npm start` (prestart), `npm test` (pretest) and the browser suite, so a fresh clone serves the
 * app and a test never runs an old build. Run: npx tsx app/scripts/build-if-stale.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = join(root, 'app/build/index.html');
const sources = ['app/src', 'app/static', 'protocol', 'app/svelte.config.js', 'app/vite.config.ts', 'package-lock.json'];

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

/** Builds when stale; throws when the build fails. */
export function buildAppIfStale(): void {
  if (!appBuildStale()) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`building the app failed (exit ${r.status})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (appBuildStale()) {
    console.log('building the app (app/build is missing or older than its sources)');
    buildAppIfStale();
  }
}
