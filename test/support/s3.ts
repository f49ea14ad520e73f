/// <reference path="./s3rver.d.ts" />
/**
 * An S3-compatible server for tests. With S3_URL set (`.ci/run` starts s3rver and sets it:
 * http://ACCESS_KEY:SECRET@HOST:PORT) suites use that server; without it they start s3rver, an
 * S3-compatible server written in Node (npm `s3rver`, not AWS), in this process on a free port
 * over a temporary directory. Either way each suite gets a bucket of its own, emptied and removed
 * when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { Test } from 'tap';
import type { S3BlobOptions } from '../../db/blob.s3.ts';
import { uniqueName } from './services.ts';

/** s3rver's fixed credentials. */
const S3RVER_KEY = 'S3RVER';

async function server(t: Test): Promise<{ endpoint: string; accessKeyId: string; secretAccessKey: string }> {
  const url = process.env.S3_URL;
  if (url) {
    const u = new URL(url);
    return { endpoint: `${u.protocol}//${u.host}`, accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) };
  }
  const { default: S3rver } = await import('s3rver');
  const dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const { port } = (await s3rver.run()) as { port: number };
  t.teardown(async () => {
    await s3rver.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { endpoint: `http://127.0.0.1:${port}`, accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY };
}

function clientOf(s3: S3BlobOptions): S3Client {
  const { endpoint, accessKeyId, secretAccessKey } = s3;
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED' });
}

/** Every object in the bucket of `s3`, key to bytes (a test's bucket holds a few small ones), read straight from the server. */
export async function bucketContents(s3: S3BlobOptions): Promise<Map<string, Buffer>> {
  const client = clientOf(s3);
  try {
    const out = new Map<string, Buffer>();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    for (const o of listed.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: o.Key }));
      out.set(o.Key!, Buffer.from(await got.Body!.transformToByteArray()));
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** Options of an S3 blob store on a fresh bucket of an S3-compatible server, removed when `t` ends. */
export async function freshS3Bucket(t: Test): Promise<S3BlobOptions> {
  const { endpoint, accessKeyId, secretAccessKey } = await server(t);
  // Bucket names: lower case, digits and hyphens.
  const bucket = uniqueName('t').replace(/_/g, '-');
  const client = clientOf({ endpoint, bucket, accessKeyId, secretAccessKey });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  t.teardown(async () => {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });
  return { endpoint, bucket, accessKeyId, secretAccessKey };
}
