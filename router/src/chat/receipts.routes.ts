/**
 * Receipts over HTTP, for a device without a socket: its service worker stored a pushed message
 * (`delivered`, a device receipt: the device has it, nobody has necessarily seen it) or the person
 * marked a room read from a notification (`read`). Each goes to the room's actor exactly like a
 * socket's `message.ack` / `message.read`, so the watermark, the privacy rules and the fan-out to
 * every node are the same; unlike a socket's, a claim past the room's last seq is refused.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../../protocol/app-error.ts';
import type { ReceiptRequest, ReceiptResponse } from '../../../protocol/http.ts';
import { readJson, sendJson } from '../http/json.ts';
import type { RouteModule } from '../http/route.ts';
import { parseWith } from '../http/validate.ts';
import type { ChatroomDirectory } from './chatroom.directory.ts';

export interface ReceiptRoutesDeps {
  /** The room actors, which hold the watermarks. */
  rooms: Pick<ChatroomDirectory, 'tell'>;
}

const params = z.object({ room: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/) });
const body = z.strictObject({ seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

export function receiptRoutes(deps: ReceiptRoutesDeps): RouteModule {
  return ({ signedIn }) => {
    for (const kind of ['delivered', 'read'] as const) {
      // Signed in and same-origin (the group's guards): a cross-site page cannot raise anyone's receipts.
      signedIn.post(`/api/rooms/:room/${kind}`, async (req, res) => {
        const { room } = parseWith(params, req.params);
        const { seq } = parseWith(body, await readJson(req)) satisfies ReceiptRequest;
        const user = req.caller.user;
        const held = await new Promise<number>((resolve, reject) => {
          // Its own id: every socket of the user hears the new watermark, as from another device.
          const conn = { id: `http:${randomUUID()}`, user };
          deps.rooms.tell(room, { type: 'receipt', conn, kind, seq, answer: (outcome) => (outcome instanceof AppError ? reject(outcome) : resolve(outcome)) });
        });
        sendJson(res, 200, { room, seq: held } satisfies ReceiptResponse);
      });
    }
  };
}
