/**
 * A local S3-compatible server for tests and trying the S3 blob store: s3rver (npm, written in
 * Node; not AWS), listening on 127.0.0.1. `.ci/run` starts it when S3_URL does not answer.
 *
 *   node ops/s3-test-server.ts [PORT] [DIRECTORY]     (defaults: 4568, /var/lib/s3rver)
 *
 * Its credentials are s3rver's fixed ones: S3_URL=http://S3RVER:S3RVER@127.0.0.1:PORT
 */
import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

const port = Number(process.argv[2] ?? 4568);
const directory = process.argv[3] ?? '/var/lib/s3rver';
mkdirSync(directory, { recursive: true });
const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory });
const { port: bound } = await server.run();
console.log(`s3rver (S3-compatible, for tests) on http://127.0.0.1:${bound}, data in ${directory}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
