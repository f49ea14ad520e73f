/**
 * `POST /api/uploads`, `GET /api/attachments/:id` and `GET /api/attachments/:id/thumb`
 * (docs/http-api.md, "Attachments"): parse the request, delegate to the upload service and the
 * access rule, and answer with headers under which no attachment can act as a page of ours.
 */
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange } from '../../../db/blob.port.ts';
import type { UploadRecord } from '../../../db/upload.port.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { UploadResponse } from '../../../protocol/http.ts';
import type { Logger } from '../../../kit/logger.ts';
import type { RouteModule, SignedInReq } from '../http/route.ts';
import { sendJson } from '../http/json.ts';
import { attachmentFor, type AccessDeps } from './attachment.access.ts';
import { contentDisposition, downloadName } from './file.name.ts';
import type { UploadService } from './upload.service.ts';

export interface AttachmentRoutesDeps extends AccessDeps {
  uploader: Pick<UploadService, 'upload'>;
  blobs: Pick<BlobStore, 'get'>;
  log: Logger;
}

/** Headers of every download of stored bytes (attachments, avatars): bytes never change, and never act as a page of ours. */
export const STORED_BYTES_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // Opened as a page anyway (an HTML file saved by someone, a crafted link), it has no origin and runs nothing.
  'Content-Security-Policy': 'sandbox',
  'Cache-Control': 'private, max-age=31536000, immutable',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/** Types shown in place (an image, a player): never a type that can run script (SVG, HTML, XML). */
const INLINE = /^(image\/(jpeg|png|gif|webp|avif|bmp)|audio\/[\w.+-]+|video\/[\w.+-]+)$/;
const isMedia = (type: string) => INLINE.test(type);

/** A single `bytes=` range of a blob of `size` bytes; undefined for none or one we do not serve (the whole blob goes); null when unsatisfiable. */
function rangeOf(header: string | undefined, size: number): ByteRange | undefined | null {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 ? null : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? null : { start, end };
}

export function attachmentRoutes(deps: AttachmentRoutesDeps): RouteModule {
  const { uploader, blobs } = deps;

  async function download(req: SignedInReq, res: ServerResponse, thumb: boolean): Promise<void> {
    const upload: UploadRecord = await attachmentFor(req.caller.user.id, req.params.id ?? '', deps);
    const key = thumb ? upload.thumbKey : upload.blobKey;
    if (!key) throw new AppError('not_found');
    const type = thumb ? 'image/webp' : upload.type;
    const etag = `"${thumb ? 't-' : ''}${upload.sha256}"`;
    const media = isMedia(type);
    const headers: Record<string, string> = {
      'Content-Type': type,
      ...STORED_BYTES_HEADERS,
      'Content-Disposition': contentDisposition(media ? 'inline' : 'attachment', downloadName(upload.name, upload.ext ?? undefined)),
      ETag: etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const probe = media ? await blobs.get(key, { start: 0, end: 0 }) : null;
    const size = probe?.size;
    probe?.body.destroy();
    const range = media && size !== undefined ? rangeOf(req.headers.range, size) : undefined;
    if (range === null) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      res.end();
      return;
    }
    const blob = await blobs.get(key, range);
    if (!blob) throw new AppError('not_found');
    if (media) headers['Accept-Ranges'] = 'bytes';
    if (range) {
      res.writeHead(206, { ...headers, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}` });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': String(blob.size) });
    }
    // A client gone mid-download ends the pipeline with an error: nothing more to answer.
    await pipeline(blob.body, res).catch((err: unknown) => deps.log.debug({ err }, 'attachment download ended early'));
  }

  return ({ signedIn }) => {
    signedIn.post('/api/uploads', async (req, res) => {
      const length = req.headers['content-length'];
      const name = req.headers['x-file-name'];
      try {
        const upload = await uploader.upload({
          owner: req.caller.user.id,
          rawName: typeof name === 'string' ? name : undefined,
          length: length === undefined ? undefined : Number(length),
          body: req,
        });
        sendJson(res, 201, { upload } satisfies UploadResponse);
      } catch (err) {
        // The rest of a refused body is not read: the connection closes after the answer.
        if (!req.complete) res.setHeader('Connection', 'close');
        throw err;
      }
    });
    signedIn.get('/api/attachments/:id', (req, res) => download(req, res, false));
    signedIn.get('/api/attachments/:id/thumb', (req, res) => download(req, res, true));
  };
}
