/**
 * VAPID keys: the worker signs every push request with them and the app subscribes with the
 * public one. The full stack takes them from config (`npm run vapid` prints a fresh pair); the
 * embedded default generates a pair once and keeps it in DATA_DIR/vapid.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';

export interface VapidKeys {
  /** base64url, uncompressed P-256 point (65 bytes). */
  publicKey: string;
  /** base64url, 32 bytes. */
  privateKey: string;
}

/** A fresh key pair. */
export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

/** The pair kept in `dataDir` (created on first use); in memory only for `memory://`. */
export async function vapidKeysIn(dataDir: string): Promise<VapidKeys> {
  if (dataDir.startsWith('memory://')) return generateVapidKeys();
  const file = join(dataDir, 'vapid.json');
  try {
    const keys = JSON.parse(await readFile(file, 'utf8')) as VapidKeys;
    if (typeof keys.publicKey === 'string' && typeof keys.privateKey === 'string') return keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys = generateVapidKeys();
  await mkdir(dataDir, { recursive: true });
  // wx: two processes starting at once must not overwrite each other's pair.
  await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return JSON.parse(await readFile(file, 'utf8')) as VapidKeys;
}
