import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request, createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { spool, SpoolError, type Spooled } from '../src/attachments/upload.spool.ts';

const dirOf = (t: Test) => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** Chunks of `data`, `chunk` bytes each, counting how many were pulled. */
function counted(data: Buffer, chunk: number): { stream: Readable; pulled: () => number } {
  let at = 0;
  const stream = new Readable({
    read() {
      if (at >= data.length) return this.push(null);
      this.push(data.subarray(at, at + chunk));
      at += chunk;
    },
  });
  return { stream, pulled: () => at };
}

t.test('the bytes land in a file, counted and hashed', async (t) => {
  const dir = dirOf(t);
  const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
  const out = await spool(Readable.from([data.subarray(0, 40_000), data.subarray(40_000)]), dir, 1_000_000);
  t.equal(out.size, data.length, 'the size');
  t.equal(out.sha256, createHash('sha256').update(data).digest('hex'), 'the SHA-256');
  t.ok(readFileSync(out.path).equals(data), 'the file holds the bytes');
});

t.test('past the limit the upload is refused before it is all read, and leaves no file', async (t) => {
  const dir = dirOf(t);
  const { stream, pulled } = counted(Buffer.alloc(10_000_000), 16_384);
  await t.rejects(spool(stream, dir, 100_000), new SpoolError('too_large'), 'refused as too large');
  t.ok(pulled() < 1_000_000, `stopped reading early (${pulled()} of 10,000,000 bytes pulled)`);
  t.same(readdirSync(dir), [], 'no file left');
});

t.test('an empty upload is refused', async (t) => {
  const dir = dirOf(t);
  await t.rejects(spool(Readable.from([]), dir, 100), new SpoolError('empty'));
  t.same(readdirSync(dir), [], 'no file left');
});

t.test('a client that goes away mid-upload leaves nothing', async (t) => {
  const dir = dirOf(t);
  let outcome: Promise<Spooled> | undefined;
  const arrived = new Promise<void>((resolve) => {
    const server = createServer((req: IncomingMessage, res) => {
      outcome = spool(req, dir, 1_000_000, Number(req.headers['content-length']));
      outcome.catch(() => undefined).finally(() => res.end());
      req.once('data', () => resolve());
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': '500000' } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(1000));
      void arrived.then(() => req.destroy());
    });
    t.teardown(() => server.close());
  });
  await arrived;
  await t.rejects(outcome!, new SpoolError('truncated'), 'refused as truncated');
  t.same(readdirSync(dir), [], 'no file left');
});
