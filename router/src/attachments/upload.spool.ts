/**
 * An upload's bytes, from the request to a temporary file: counted, hashed (SHA-256) and cut off
 * the moment they pass the limit, so a 25 MB upload holds a few stream buffers of memory, never
 * the file, and an oversized one is refused before it is all read. The file is deleted whenever
 * the spool fails; the caller deletes it once the blob store has the bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Why a spool failed, for the route to name in its answer. */
export type SpoolProblem = 'too_large' | 'empty' | 'truncated';

export class SpoolError extends Error {
  readonly problem: SpoolProblem;

  constructor(problem: SpoolProblem) {
    super(`upload ${problem}`);
    this.problem = problem;
    this.name = 'SpoolError';
  }
}

export interface Spooled {
  /** The temporary file holding the bytes. */
  path: string;
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

/**
 * Writes `body` to a new file in `dir`, refusing more than `maxBytes`, an empty body, and a body
 * shorter than its announced `expected` length (a client that went away mid-upload).
 */
export async function spool(body: Readable, dir: string, maxBytes: number, expected?: number): Promise<Spooled> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `upload-${randomBytes(12).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new SpoolError('too_large'));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // A request whose client disconnects ends with 'aborted' (and an error) instead of 'end'.
  let aborted = false;
  body.once('aborted', () => (aborted = true));
  try {
    await pipeline(body, meter, createWriteStream(path, { flags: 'wx' }));
    if (aborted || (expected !== undefined && size < expected)) throw new SpoolError('truncated');
    if (size === 0) throw new SpoolError('empty');
    return { path, size, sha256: hash.digest('hex') };
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof SpoolError) throw err;
    if (aborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') throw new SpoolError('truncated');
    throw err;
  }
}
