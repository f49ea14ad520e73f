/**
 * The Content-Security-Policy of the web app: scripts only from our origin plus the hashes of the
 * inline bootstrap scripts of the built index.html (SvelteKit's SPA start-up), no plugins, no
 * framing, connections only to our origin (HTTP and WebSocket). Inline style attributes are
 * allowed (Svelte's style: directives); user content is never HTML, so they carry no user input.
 * Images may be `blob:` URLs: the composer previews a picture from the file itself before it is sent.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The policy for the app built in `staticDir` (hashes read once, at start). */
export function contentSecurityPolicy(staticDir: string): string {
  const index = join(staticDir, 'index.html');
  const html = existsSync(index) ? readFileSync(index, 'utf8') : '';
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
