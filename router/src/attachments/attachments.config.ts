/**
 * The settings of attachments: where their bytes live (an S3-compatible bucket when S3_BUCKET is
 * set, else files under DATA_DIR/blobs) and the limits of uploads. router/src/config.ts lists
 * these keys in its schema and maps them with attachmentsFrom(); the README's table documents each.
 */
import { z } from 'zod';
import { int, url } from '../../../kit/config.ts';

/** The zod field of each key, under its environment name. */
export const attachmentsFields = {
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3 to 63 lower-case letters, digits, dots, hyphens)').optional(),
  S3_ENDPOINT: url(['http:', 'https:']).optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]{1,32}$/).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  UPLOAD_MAX_BYTES: int(25 * 1024 * 1024, 1, 5 * 1024 ** 3),
  UPLOAD_QUOTA_BYTES: int(1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
  UPLOAD_TTL_MS: int(24 * 3600_000, 1000, 365 * 24 * 3600_000),
  UPLOADS_CONCURRENT_MAX: int(4, 1, 1000),
  IMAGE_MAX_PIXELS: int(50_000_000, 1, 1_000_000_000),
};

type AttachmentsEnv = z.output<z.ZodObject<typeof attachmentsFields>>;

/** An S3-compatible bucket (MinIO, Ceph RGW, AWS S3). */
export interface S3Config {
  /** The service's URL; unset for AWS S3 itself. */
  endpoint: string | undefined;
  bucket: string;
  /** Default us-east-1. */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AttachmentsConfig {
  /** The bucket attachments' bytes go to; undefined (S3_BUCKET unset): files under DATA_DIR/blobs. */
  s3: S3Config | undefined;
  /** Largest upload, bytes; a larger one is refused while it streams. Default 25 MiB. */
  maxBytes: number;
  /** Bytes one user's uploads may hold in all (sent and not yet sent). Default 1 GiB. */
  quotaBytes: number;
  /** An upload no message referenced is deleted this long after it was made, ms. Default 24 h. */
  ttlMs: number;
  /** Uploads one user may have under way at once on one node; more get 429 `too_many_uploads`. Default 4. */
  concurrentMax: number;
  /** Most pixels of an image (per frame); more is a decompression bomb, refused. Default 50 million. */
  imageMaxPixels: number;
}

/** The attachments' settings from a parsed environment, with the problems found across keys. */
export function attachmentsFrom(e: AttachmentsEnv): { attachments: AttachmentsConfig; problems: string[] } {
  const problems: string[] = [];
  let s3: S3Config | undefined;
  if (e.S3_BUCKET) {
    if (!e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY) problems.push('S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: required with S3_BUCKET');
    else s3 = Object.freeze({ endpoint: e.S3_ENDPOINT, bucket: e.S3_BUCKET, region: e.S3_REGION, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY });
  } else if (e.S3_ENDPOINT || e.S3_ACCESS_KEY_ID || e.S3_SECRET_ACCESS_KEY) {
    problems.push('S3_BUCKET: required with S3_ENDPOINT, S3_ACCESS_KEY_ID or S3_SECRET_ACCESS_KEY');
  }
  return {
    attachments: Object.freeze({
      s3,
      maxBytes: e.UPLOAD_MAX_BYTES,
      quotaBytes: e.UPLOAD_QUOTA_BYTES,
      ttlMs: e.UPLOAD_TTL_MS,
      concurrentMax: e.UPLOADS_CONCURRENT_MAX,
      imageMaxPixels: e.IMAGE_MAX_PIXELS,
    }),
    problems,
  };
}
