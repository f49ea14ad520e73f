/**
 * Where the bytes of attachments live: the local filesystem (the embedded default and single-node
 * deployments, under DATA_DIR) or an S3-compatible object store (production: MinIO, Ceph RGW, AWS
 * S3). Bytes never pass through the history store or the WebSocket; this port only streams them.
 *
 * Keys are ours, never a client's: `isBlobKey` is the whole alphabet, so no key can name a path
 * outside the store. A blob is written once and never changed (its key names one upload), which is
 * why a download may be cached as immutable.
 */
import type { Readable } from 'node:stream';

/** Lower-case letters, digits, `-` and `/` between segments: 1 to 200 characters, no `..`, no leading `/`. */
const KEY = /^[a-z0-9-]+(\/[a-z0-9-]+)*$/;

export function isBlobKey(key: string): boolean {
  return key.length > 0 && key.length <= 200 && KEY.test(key);
}

/** An inclusive byte range, as HTTP's Range header names one: `start` <= `end` < size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobRead {
  /** The bytes (of the range, when one was asked for). */
  body: Readable;
  /** The whole blob's size in bytes. */
  size: number;
}

export interface BlobStore {
  /**
   * Streams `body` (exactly `size` bytes) into the store under `key`. The blob appears only once all
   * of it is stored: when the stream fails or carries another number of bytes, put rejects and
   * nothing stays behind under `key`.
   */
  put(key: string, body: Readable, size: number, contentType: string): Promise<void>;
  /** The blob, or the `range` of it; null when there is none. A range past the end is the caller's to refuse first. */
  get(key: string, range?: ByteRange): Promise<BlobRead | null>;
  /** The blob's size, or null when there is none. */
  size(key: string): Promise<number | null>;
  /** Removes the blob; removing one that is not there is not an error. */
  delete(key: string): Promise<void>;
  /** Resolves when the store answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The error `put` rejects with when the stream carried another number of bytes than announced. */
export class BlobSizeMismatchError extends Error {
  readonly expected: number;
  readonly actual: number;

  constructor(expected: number, actual: number) {
    super(`blob stream carried ${actual} bytes, ${expected} were announced`);
    this.expected = expected;
    this.actual = actual;
    this.name = 'BlobSizeMismatchError';
  }
}

/** Refuses a key that is not ours to give (a programming error, never user input). */
export function checkBlobKey(key: string): void {
  if (!isBlobKey(key)) throw new Error(`not a blob key: ${JSON.stringify(key.slice(0, 60))}`);
}
