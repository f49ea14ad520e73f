/**
 * What every BlobStore must do, run against each implementation by blob.test.ts: the filesystem
 * and an S3-compatible server.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Test } from 'tap';
import { BlobSizeMismatchError, type BlobStore } from '../blob.port.ts';

/** Makes a fresh, empty store for one case; the factory cleans up in `t.teardown`. */
export type MakeBlobStore = (t: Test) => Promise<BlobStore>;

const bytes = (n: number, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256));

/** A stream of `data` in chunks of `chunk` bytes, then an error instead of its end when `failAfter` is set. */
function streamOf(data: Buffer, chunk = 64 * 1024, failAfter?: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && at >= failAfter) return this.destroy(new Error('the client went away'));
      if (at >= data.length) return this.push(null);
      this.push(data.subarray(at, at + chunk));
      at += chunk;
    },
  });
}

export async function blobContract(t: Test, make: MakeBlobStore): Promise<void> {
  t.test('a stored blob reads back byte for byte, with its size', async (t) => {
    const store = await make(t);
    const data = bytes(300_000);
    await store.put('u/1/a', streamOf(data), data.length, 'application/octet-stream');
    const read = await store.get('u/1/a');
    t.ok(read, 'the blob is there');
    t.equal(read!.size, data.length, 'its size');
    t.ok((await buffer(read!.body)).equals(data), 'the same bytes');
    t.equal(await store.size('u/1/a'), data.length, 'size() agrees');
  });

  t.test('a byte range reads just those bytes, and says the whole size', async (t) => {
    const store = await make(t);
    const data = bytes(10_000, 3);
    await store.put('range', streamOf(data, 1000), data.length, 'video/mp4');
    for (const [start, end] of [[0, 0], [0, 99], [5000, 9999], [9999, 9999]] as const) {
      const read = await store.get('range', { start, end });
      t.equal(read?.size, data.length, `bytes ${start}-${end}: the whole size`);
      t.ok((await buffer(read!.body)).equals(data.subarray(start, end + 1)), `bytes ${start}-${end}: exactly those`);
    }
  });

  t.test('an empty blob is a blob', async (t) => {
    const store = await make(t);
    await store.put('empty', streamOf(Buffer.alloc(0)), 0, 'text/plain');
    t.equal(await store.size('empty'), 0, 'size 0');
  });

  t.test('a blob that is not there reads as null, and deleting it is fine', async (t) => {
    const store = await make(t);
    t.equal(await store.get('nothing/here'), null, 'get: null');
    t.equal(await store.size('nothing/here'), null, 'size: null');
    await store.delete('nothing/here');
    t.pass('delete of a missing blob resolves');
  });

  t.test('a deleted blob is gone', async (t) => {
    const store = await make(t);
    await store.put('gone', streamOf(bytes(10)), 10, 'image/png');
    await store.delete('gone');
    t.equal(await store.get('gone'), null, 'get after delete: null');
    await store.delete('gone');
    t.pass('deleting twice is fine');
  });

  t.test('a stream that fails half-way stores nothing', async (t) => {
    const store = await make(t);
    const data = bytes(200_000);
    await t.rejects(store.put('cut', streamOf(data, 16_384, 65_536), data.length, 'image/jpeg'), 'put rejects');
    t.equal(await store.size('cut'), null, 'no blob under the key');
  });

  t.test('more or fewer bytes than announced store nothing', async (t) => {
    const store = await make(t);
    await t.rejects(store.put('long', streamOf(bytes(1000)), 999, 'text/plain'), BlobSizeMismatchError, 'one byte too many');
    t.equal(await store.size('long'), null, 'nothing stored for the long one');
    await t.rejects(store.put('short', streamOf(bytes(1000)), 1001, 'text/plain'), BlobSizeMismatchError, 'one byte too few');
    t.equal(await store.size('short'), null, 'nothing stored for the short one');
  });

  t.test('keys that could name something outside the store are refused before any I/O', async (t) => {
    const store = await make(t);
    for (const key of ['', '../etc/passwd', '/abs', 'a/../../b', 'A', 'a//b', 'a/', 'x'.repeat(201), 'a b', 'a\0b']) {
      await t.rejects(store.get(key), `get ${JSON.stringify(key.slice(0, 20))}`);
      await t.rejects(store.put(key, streamOf(bytes(1)), 1, 'text/plain'), `put ${JSON.stringify(key.slice(0, 20))}`);
    }
  });

  t.test('the store answers a ping', async (t) => {
    const store = await make(t);
    await store.ping();
    t.pass('ping resolves');
  });
}
