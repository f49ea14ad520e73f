/**
 * `PUT`/`DELETE /api/me/avatar`, `PUT`/`DELETE /api/groups/:room/avatar` and `GET /api/avatars/:id` (docs/http-api.md, "Avatars"): parse,
 * delegate to the avatar service, and serve the square WebP under the same headers as attachments.
 * Avatars are public within the app: any signed-in user may fetch any of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../../db/blob.port.ts';
import type { Logger } from '../../../kit/logger.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { GroupAvatarResponse, UserResponse } from '../../../protocol/http.ts';
import type { RouteModule } from '../http/route.ts';
import { sendJson } from '../http/json.ts';
import { STORED_BYTES_HEADERS } from './attachments.routes.ts';
import { avatarKey, isAvatarId, type AvatarService } from './avatar.service.ts';

export interface AvatarRoutesDeps {
  avatars: Pick<AvatarService, 'set' | 'remove' | 'setGroup'>;
  blobs: Pick<BlobStore, 'get'>;
  log: Pick<Logger, 'debug'>;
}

/** A room id as the path gives it; anything that cannot be one is the same 404 as a room one is not in. */
function roomParam(room: string | undefined): string {
  if (!room || room.length > 64 || !/^[\w-]+$/.test(room)) throw new AppError('room_not_found');
  return room;
}

/** Runs `handle` with the announced body length; a refused body is not read on: the connection closes after the answer. */
async function withBody(req: IncomingMessage, res: ServerResponse, handle: (length: number | undefined) => Promise<void>): Promise<void> {
  const length = req.headers['content-length'];
  try {
    await handle(length === undefined ? undefined : Number(length));
  } catch (err) {
    if (!req.complete) res.setHeader('Connection', 'close');
    throw err;
  }
}

export function avatarRoutes({ avatars, blobs, log }: AvatarRoutesDeps): RouteModule {
  return ({ signedIn }) => {
    signedIn.put('/api/me/avatar', (req, res) =>
      withBody(req, res, async (length) => sendJson(res, 200, { user: await avatars.set(req.caller.user.id, req, length) } satisfies UserResponse)),
    );

    signedIn.put('/api/groups/:room/avatar', (req, res) =>
      withBody(req, res, async (length) => {
        const room = roomParam(req.params.room);
        sendJson(res, 200, { room, avatarUrl: await avatars.setGroup(req.caller.user.id, room, req, length) } satisfies GroupAvatarResponse);
      }),
    );

    signedIn.delete('/api/groups/:room/avatar', async (req, res) => {
      const room = roomParam(req.params.room);
      sendJson(res, 200, { room, avatarUrl: await avatars.setGroup(req.caller.user.id, room, null) } satisfies GroupAvatarResponse);
    });

    signedIn.delete('/api/me/avatar', async (req, res) => {
      sendJson(res, 200, { user: await avatars.remove(req.caller.user.id) } satisfies UserResponse);
    });

    signedIn.get('/api/avatars/:id', async (req, res) => {
      const id = req.params.id ?? '';
      if (!isAvatarId(id)) throw new AppError('not_found');
      const etag = `"${id}"`;
      const headers = {
        'Content-Type': 'image/webp',
        ...STORED_BYTES_HEADERS,
        ETag: etag,
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const blob = await blobs.get(avatarKey(id));
      if (!blob) throw new AppError('not_found');
      res.writeHead(200, { ...headers, 'Content-Length': String(blob.size) });
      await pipeline(blob.body, res).catch((err: unknown) => log.debug({ err }, 'avatar download ended early'));
    });
  };
}
