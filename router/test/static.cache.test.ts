/**
 * How the built app is cached: hashed assets for a year (their names change with their content),
 * everything else (the shell, the service worker, the manifest) revalidated on each use, so a new
 * release reaches users on their next visit.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { httpApp } from '../src/http/app.ts';

const dir = mkdtempSync(join(tmpdir(), 'static-cache-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, '_app/immutable/chunks'), { recursive: true });
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
writeFileSync(join(dir, 'service-worker.js'), 'self.addEventListener("fetch", () => {});');
writeFileSync(join(dir, '_app/immutable/chunks/app.B1x2.js'), 'export {};');
writeFileSync(join(dir, '_app/version.json'), '{"version":"1"}');

const app = httpApp({
  config: { nodeId: 'static-test', staticDir: dir },
  log: pino({ level: 'silent' }),
  // No route of this app is guarded: the guards are never called.
  guards: { signedIn: (_req, _res, next) => next(), sameOrigin: (_req, _res, next) => next() },
  routes: [],
  ready: async () => [],
  draining: () => false,
});
app.listen(0, '127.0.0.1');
t.teardown(() => new Promise<void>((resolve) => app.server!.close(() => resolve())));
await new Promise<void>((resolve) => (app.server!.listening ? resolve() : app.server!.once('listening', () => resolve())));
const base = `http://127.0.0.1:${(app.server!.address() as AddressInfo).port}`;

const cacheOf = async (path: string) => {
  const res = await fetch(`${base}${path}`);
  await res.arrayBuffer();
  return { status: res.status, cache: res.headers.get('cache-control') };
};

t.test('hashed assets are immutable for a year', async (t) => {
  t.same(await cacheOf('/_app/immutable/chunks/app.B1x2.js'), { status: 200, cache: 'public, max-age=31536000, immutable' });
});

t.test('the shell, the service worker and unversioned files are revalidated', async (t) => {
  for (const path of ['/', '/chat/1-2', '/service-worker.js', '/_app/version.json']) {
    t.same(await cacheOf(path), { status: 200, cache: 'no-cache' }, path);
  }
});
