import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freshS3Bucket } from '../../test/support/s3.ts';
import { FsBlobStore } from '../blob.fs.ts';
import { S3BlobStore } from '../blob.s3.ts';
import { blobContract } from './blob.contract.ts';

t.test('the filesystem blob store', async (t) => {
  const dirs: string[] = [];
  await blobContract(t, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
    dirs.push(dir);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return new FsBlobStore(dir);
  });

  t.test('failed uploads leave no partial file behind', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const store = new FsBlobStore(dir);
    const { Readable } = await import('node:stream');
    await t.rejects(store.put('a', Readable.from([Buffer.alloc(10)]), 11, 'text/plain'), 'a short stream is refused');
    t.same(readdirSync(join(dir, '.partial')), [], 'the partial directory is empty');
  });
});

t.test('the S3 blob store, on an S3-compatible server (s3rver, or S3_URL)', async (t) => {
  await blobContract(t, async (t) => {
    const store = new S3BlobStore(await freshS3Bucket(t));
    t.teardown(() => store.close());
    return store;
  });
});
