/**
 * The memory a data export (`GET /api/me/export`) costs the router: a user with N messages (default
 * 100,000) in a 1:1 room, beside another person's N/10; the export is read over real HTTP and thrown
 * away, while the node's V8 heap (used + external) is sampled every 2 ms and on every chunk. The
 * figure is the peak above the heap after a full GC just before. For scale, the same messages read
 * in one call and serialised at once (what an export that loads everything would hold) are
 * measured the same way afterwards.
 *
 *   node --expose-gc --import tsx router/bench/export.memory.ts [N]     (DATABASE_URL: PostgreSQL, else in-memory PGlite)
 */
import { request } from 'node:http';
import { createLogger } from '../../kit/logger.ts';
import { loadConfig } from '../src/config.ts';
import { startRouter } from '../src/node.ts';
import { openStores } from '../src/stores.ts';

const N = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const heap = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Runs `work` and returns the peak heap above the heap after a full GC just before it. */
async function peakOf(work: (sample: () => void) => Promise<void>): Promise<number> {
  gc!();
  const base = heap();
  let peak = base;
  const sample = () => void (peak = Math.max(peak, heap()));
  const timer = setInterval(sample, 2);
  try {
    await work(sample);
  } finally {
    clearInterval(timer);
  }
  sample();
  return peak - base;
}

const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', LOG_LEVEL: 'silent', EXPORT_RATE_LIMIT: '100' };
if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
const config = loadConfig(env);
const stores = await openStores(config, createLogger('silent'));
const node = await startRouter(config, stores, createLogger('silent'));
try {
  const tag = Math.random().toString(36).slice(2, 8);
  const ann = await stores.relational.createUser(`exp_${tag}_a`, 'Ann');
  const ben = await stores.relational.createUser(`exp_${tag}_b`, 'Ben');
  const room = (await stores.relational.openDirectRoom(ann.id, ben.id))!.id;
  const started = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ room, sender: ann.id, body: `message ${i + k} from ann, about as long as a chat line is`, clientMsgId: `a${i + k}` }));
    if (i % 10_000 === 0) batch.push({ room, sender: ben.id, body: `message ${i} from ben`, clientMsgId: `b${i}` });
    await stores.history.append(batch);
  }
  const session = await stores.sessions.create(ann.id, 3600_000);
  console.log(`${N} messages stored in ${((performance.now() - started) / 1000).toFixed(1)} s (${config.databaseUrl ? 'PostgreSQL' : 'PGlite'})`);

  let bytes = 0;
  let exportMs = 0;
  const streamed = await peakOf(async (sample) => {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: node.port, path: '/api/me/export', headers: { cookie: `sid=${session.id}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          sample();
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    exportMs = performance.now() - t0;
  });
  console.log(`export: ${mib(bytes)} of JSON in ${(exportMs / 1000).toFixed(1)} s; peak heap above the start: ${mib(streamed)}`);

  const whole = await peakOf(async () => {
    const all = await stores.history.sentBy(room, ann.id, 0, N + 1);
    const text = JSON.stringify(all);
    if (text.length === 0) throw new Error('nothing read');
  });
  console.log(`for scale, the same messages read at once and serialised: peak ${mib(whole)}`);
} finally {
  await node.close();
  await stores.close();
}
