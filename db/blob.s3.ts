/**
 * The blob store on an S3-compatible object store (AWS S3, MinIO, Ceph RGW), one object per blob
 * in one bucket. An upload that fails or is cut short leaves no object behind (see `put`).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Transform, type Readable } from 'node:stream';
import { BlobSizeMismatchError, checkBlobKey, type BlobRead, type BlobStore, type ByteRange } from './blob.port.ts';

export interface S3BlobOptions {
  /** The service's URL, e.g. http://127.0.0.1:9000 for MinIO; unset for AWS S3 itself. */
  endpoint?: string;
  bucket: string;
  /** Default us-east-1 (what MinIO and s3rver accept). */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bucket in the path, not the host name: what MinIO and most self-hosted stores need. Default true. */
  forcePathStyle?: boolean;
}

/** S3's largest part (5 GiB): a larger blob would need several parts; attachments are far smaller. */
const MAX_PART = 5 * 1024 ** 3;

/** Passes on only the bytes `range` names of the stream through it. */
function slice(range: ByteRange): Transform {
  let at = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const from = Math.max(0, range.start - at);
      const to = Math.min(chunk.length, range.end + 1 - at);
      at += chunk.length;
      done(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}

const missing = (err: unknown) =>
  err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3BlobOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? true,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Checksums only where the API requires them: by default the SDK wraps a streamed body in
      // aws-chunked framing with a trailing CRC, which not every S3-compatible store understands
      // (s3rver stores the framing as the content). Integrity is ours anyway: the upload's SHA-256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Readable, size: number, contentType: string): Promise<void> {
    checkBlobKey(key);
    if (size > MAX_PART) throw new Error(`a blob of ${size} bytes is over the ${MAX_PART} this store writes in one part`);
    // A multipart upload of one part: the object appears only when the upload is completed, on
    // every S3-compatible server (a plain PutObject is atomic on AWS and MinIO, but s3rver writes
    // as bytes arrive), and an aborted upload leaves nothing under the key.
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }));
    const upload = { Bucket: this.bucket, Key: key, UploadId };
    let seen = 0;
    // Counts on the way through: too many bytes fail at once, too few when the stream ends. Either
    // error ends the request body early, which aborts the part's request.
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(seen > size ? new BlobSizeMismatchError(size, seen) : null, chunk);
      },
      flush(done) {
        done(seen !== size ? new BlobSizeMismatchError(size, seen) : null);
      },
    });
    let failure: unknown;
    const abort = new AbortController();
    const fail = (err: unknown) => {
      failure ??= err;
      abort.abort();
    };
    body.once('error', fail);
    counted.once('error', fail);
    body.pipe(counted);
    try {
      const { ETag } = await this.client.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: counted, ContentLength: size }), {
        abortSignal: abort.signal,
      });
      if (failure) throw failure;
      await this.client.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: [{ ETag, PartNumber: 1 }] } }));
    } catch (err) {
      // Best effort: the upload's own error is the one to report.
      await this.client.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
      throw failure ?? err;
    }
  }

  async get(key: string, range?: ByteRange): Promise<BlobRead | null> {
    checkBlobKey(key);
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      const body = out.Body as Readable;
      // The whole size is after the slash of Content-Range ("bytes 0-9/1234"). A server may send
      // more than the range asked for (HTTP allows ignoring a Range; s3rver widens "bytes=0-0"
      // to all of it): then the asked-for bytes are cut from what came.
      const sent = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
      const size = sent ? Number(sent[3]) : Number(out.ContentLength);
      const from = sent ? Number(sent[1]) : 0;
      const to = sent ? Number(sent[2]) : size - 1;
      if (!range || (from === range.start && to === range.end)) return { body, size };
      return { body: body.pipe(slice({ start: range.start - from, end: range.end - from })), size };
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async size(key: string): Promise<number | null> {
    checkBlobKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return Number(out.ContentLength);
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    checkBlobKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
