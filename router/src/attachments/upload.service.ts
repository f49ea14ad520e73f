/**
 * An upload, from the request's bytes to a row of its owner's (docs/http-api.md, "Attachments"):
 * spooled to a temporary file (bounded memory, refused past the limit while streaming), its type
 * sniffed from the bytes (never the client's name or Content-Type), an image re-encoded without
 * metadata and thumbnailed, the bytes streamed into the blob store, and the row recorded within
 * the owner's quota. Whatever fails on the way, nothing of it stays behind: temporary files,
 * blobs and row go together.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileTypeFromFile } from 'file-type';
import type { Logger } from 'pino';
import type { BlobStore } from '../../../db/blob.port.ts';
import type { Clock } from '../../../db/clock.ts';
import { attachmentOf, type NewUpload, type UploadStore } from '../../../db/upload.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { Attachment } from '../../../protocol/frames.ts';
import type { AttachmentsConfig } from './attachments.config.ts';
import { fileNameProblem, normaliseFileName } from './file.name.ts';
import { IMAGE_TYPES, ImageError, isImageExt, processImage } from './image.process.ts';
import { SpoolError, spool } from './upload.spool.ts';

export interface UploadDeps {
  blobs: Pick<BlobStore, 'put' | 'delete'>;
  uploads: Pick<UploadStore, 'create' | 'bytesOf'>;
  /** Where uploads are spooled while they stream in. */
  spoolDir: string;
  config: Pick<AttachmentsConfig, 'maxBytes' | 'quotaBytes' | 'concurrentMax' | 'imageMaxPixels'>;
  clock: Clock;
  log: Logger;
}

/** What the route hands over: the body and what its headers said. */
export interface UploadRequest {
  owner: number;
  /** The X-File-Name header as sent (percent-encoded UTF-8). */
  rawName: string | undefined;
  /** Content-Length, when the client gave one. */
  length: number | undefined;
  body: Readable;
}

/** The media type of bytes of no type file-type knows (text among them: HTML is never served as a page). */
const UNKNOWN_TYPE = 'application/octet-stream';

const SPOOL_CODES = { too_large: 'file_too_large', empty: 'file_empty', truncated: 'upload_truncated' } as const;

/** A spool's or an image's refusal in the protocol's words (uploads and avatars); anything else as it was. */
export function asUploadError(err: unknown): unknown {
  if (err instanceof SpoolError) return new AppError(SPOOL_CODES[err.problem]);
  if (err instanceof ImageError) return new AppError(err.problem === 'too_many_pixels' ? 'image_too_large' : 'image_unreadable');
  return err;
}

export class UploadService {
  private readonly deps: UploadDeps;
  /** Uploads under way on this node, per user. */
  private readonly running = new Map<number, number>();

  constructor(deps: UploadDeps) {
    this.deps = deps;
  }

  /** The file name a client gave, decoded and normalised; `invalid_file_name` when it breaks the name rule. */
  static fileName(raw: string | undefined): string {
    let name: string;
    try {
      name = normaliseFileName(decodeURIComponent(raw ?? ''));
    } catch {
      throw new AppError('invalid_file_name');
    }
    const problem = fileNameProblem(name);
    if (problem) throw new AppError('invalid_file_name', `the file name ${problem}`);
    return name;
  }

  /** Stores one upload of `req.owner`; refusals are AppErrors with the codes of docs/errors.md. */
  async upload(req: UploadRequest): Promise<Attachment> {
    const { config } = this.deps;
    const name = UploadService.fileName(req.rawName);
    // Refused from the headers alone when they say enough: not a byte of the body is read.
    if (req.length !== undefined && req.length > config.maxBytes) throw new AppError('file_too_large');
    if (req.length === 0) throw new AppError('file_empty');
    const running = this.running.get(req.owner) ?? 0;
    if (running >= config.concurrentMax) throw new AppError('too_many_uploads');
    this.running.set(req.owner, running + 1);
    try {
      if ((await this.deps.uploads.bytesOf(req.owner)) >= config.quotaBytes) throw new AppError('upload_quota_exceeded');
      return await this.store(req, name);
    } finally {
      const left = (this.running.get(req.owner) ?? 1) - 1;
      if (left > 0) this.running.set(req.owner, left);
      else this.running.delete(req.owner);
    }
  }

  private async store(req: UploadRequest, name: string): Promise<Attachment> {
    const { blobs, config, spoolDir } = this.deps;
    const temporary: string[] = [];
    const stored: string[] = [];
    try {
      const spooled = await spool(req.body, spoolDir, config.maxBytes, req.length).catch((err: unknown) => {
        throw asUploadError(err);
      });
      temporary.push(spooled.path);
      const sniffed = await fileTypeFromFile(spooled.path);
      const id = randomUUID();
      const upload: NewUpload = {
        id,
        owner: req.owner,
        blobKey: `a/${id}`,
        thumbKey: null,
        name,
        type: sniffed?.mime ?? UNKNOWN_TYPE,
        ext: sniffed?.ext ?? null,
        size: spooled.size,
        sha256: spooled.sha256,
        createdAt: this.deps.clock.now(),
      };
      let source = spooled.path;
      if (isImageExt(sniffed?.ext)) {
        const image = await processImage(spooled.path, sniffed.ext, spoolDir, config.imageMaxPixels).catch((err: unknown) => {
          throw asUploadError(err);
        });
        temporary.push(image.path, image.thumbPath);
        // What is stored, and so what its size and checksum name, is the re-encoded image.
        source = image.path;
        upload.type = IMAGE_TYPES[sniffed.ext].mime;
        upload.size = (await stat(image.path)).size;
        upload.sha256 = await sha256Of(image.path);
        upload.width = image.width;
        upload.height = image.height;
        upload.placeholder = image.placeholder;
        upload.thumbKey = `t/${id}`;
        await blobs.put(upload.thumbKey, createReadStream(image.thumbPath), (await stat(image.thumbPath)).size, 'image/webp');
        stored.push(upload.thumbKey);
      }
      await blobs.put(upload.blobKey, createReadStream(source), upload.size, upload.type);
      stored.push(upload.blobKey);
      if (!(await this.deps.uploads.create(upload, config.quotaBytes))) throw new AppError('upload_quota_exceeded');
      stored.length = 0;
      return attachmentOf(upload);
    } finally {
      await Promise.allSettled(temporary.map((p) => rm(p, { force: true })));
      for (const key of stored) await blobs.delete(key).catch((err: unknown) => this.deps.log.warn({ err, key }, 'could not delete the blob of a failed upload'));
    }
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
