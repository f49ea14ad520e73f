/**
 * The blob store on the local filesystem: one file per blob under `root` (DATA_DIR/blobs on the
 * embedded default). A blob is written to `root/.partial/` first and renamed into place when all
 * of it arrived, so a failed or truncated upload never leaves a blob a reader could see; the
 * rename is atomic on one filesystem.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobSizeMismatchError, checkBlobKey, type BlobRead, type BlobStore, type ByteRange } from './blob.port.ts';

const PARTIAL = '.partial';

export class FsBlobStore implements BlobStore {
  private readonly root: string;

  /** @param root the directory that holds the blobs (created when missing). */
  constructor(root: string) {
    this.root = root;
  }

  private path(key: string): string {
    checkBlobKey(key);
    return join(this.root, key);
  }

  async put(key: string, body: Readable, size: number, _contentType: string): Promise<void> {
    const target = this.path(key);
    const partial = join(this.root, PARTIAL, `${randomBytes(12).toString('hex')}`);
    await mkdir(dirname(partial), { recursive: true });
    let seen = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        // Past the announced size is refused at once: the rest is never read.
        done(seen > size ? new BlobSizeMismatchError(size, seen) : null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(partial, { flags: 'wx' }));
      if (seen !== size) throw new BlobSizeMismatchError(size, seen);
      await mkdir(dirname(target), { recursive: true });
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
    const size = await this.size(key);
    if (size === null) return null;
    const body = createReadStream(this.path(key), range ? { start: range.start, end: range.end } : {});
    return { body, size };
  }

  async size(key: string): Promise<number | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? s.size : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async ping(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async close(): Promise<void> {}
}
