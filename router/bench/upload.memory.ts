/**
 * What an upload costs the router's memory, and what an image costs its CPU. A 25 MiB file is
 * POSTed to /api/uploads over real HTTP, generated and written with back-pressure (64 KiB at a
 * time, so the client side holds next to nothing), while the process's RSS and V8 heap (used +
 * external) are sampled every 2 ms; the figures are the peaks above those after a full GC just
 * before. Then a 12-megapixel photo (4000x3000 JPEG of noise, which compresses like a photo) goes
 * through the image step alone (decode, upright, strip, re-encode, 320 px WebP thumbnail,
 * ThumbHash): the median of 3 runs.
 *
 *   node --expose-gc --import tsx router/bench/upload.memory.ts     (Node 24: node --expose-gc router/bench/upload.memory.ts)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createLogger } from '../../kit/logger.ts';
import { processImage } from '../src/attachments/image.process.ts';
import { loadConfig } from '../src/config.ts';
import { startRouter } from '../src/node.ts';
import { openStores } from '../src/stores.ts';

const SIZE = 25 * 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', PUBLIC_ORIGIN: 'http://localhost:3000' });
const stores = await openStores(config, createLogger('silent'));
const node = await startRouter(config, stores, createLogger('silent'));
try {
  const user = await stores.relational.createUser(`up_${Math.random().toString(36).slice(2, 8)}`, 'Up');
  const session = await stores.sessions.create(user.id, 3600_000);
  const chunk = randomBytes(64 * 1024);
  // A first small upload warms the route, sharp and file-type up, so the figure is the stream's.
  const send = (size: number, sample: () => void) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: node.port, path: '/api/uploads', method: 'POST', headers: { origin: 'http://localhost:3000', cookie: `sid=${session.id}`, 'x-file-name': 'big.bin', 'content-length': String(size) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
          sent += part.length;
          sample();
          if (!req.write(part)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  await send(1024 * 1024, () => {});
  gc();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed + base.external;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed + m.external);
  };
  const timer = setInterval(sample, 2);
  const t0 = performance.now();
  const status = await send(SIZE, sample);
  const ms = performance.now() - t0;
  clearInterval(timer);
  sample();
  if (status !== 201) throw new Error(`upload answered ${status}`);
  console.log(`25 MiB upload: ${(ms / 1000).toFixed(2)} s; peak RSS above the start ${mib(rss - base.rss)}, peak heap (used + external) above the start ${mib(heap - base.heapUsed - base.external)}`);

  const dir = await mkdtemp(join(tmpdir(), 'bench-image-'));
  try {
    const noise = randomBytes(4000 * 3000 * 3);
    const input = join(dir, 'photo.jpg');
    await writeFile(input, await sharp(noise, { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality: 85 }).toBuffer());
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await processImage(input, 'jpg', dir, 50_000_000);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(`12 MP JPEG (4000x3000): re-encode + thumbnail + ThumbHash median ${times[1]!.toFixed(0)} ms (runs: ${times.map((x) => x.toFixed(0)).join(', ')} ms)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await node.close();
  await stores.close();
}
