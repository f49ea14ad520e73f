/**
 * For the app's browser suites: the PWA built if stale, served by a router on the embedded default
 * at a free localhost port (WebAuthn refuses an IP), stopped when `t` ends. Sends may come in
 * bursts (a test types faster than a person), so the rate limit is raised unless `env` says otherwise.
 */
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { buildAppIfStale } from '../../app/scripts/build-if-stale.ts';
import { freePort } from './browser.ts';
import { startNode } from './router.harness.ts';

const STATIC_DIR = fileURLToPath(new URL('../../app/build', import.meta.url));

/** Starts the app's server; resolves with its origin (`http://localhost:PORT`). */
export async function appServer(t: Test, env: Record<string, string> = {}): Promise<string> {
  buildAppIfStale();
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  await startNode(t, { PORT: String(port), PUBLIC_ORIGIN: origin, STATIC_DIR, RATE_LIMIT_BURST: '300', RATE_LIMIT_PER_SEC: '200', ...env });
  return origin;
}
