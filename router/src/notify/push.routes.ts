/**
 * Notification settings over HTTP: the VAPID public key the app subscribes with, saving and
 * removing web-push subscriptions, the digest e-mail address, and the unsubscribe link digests
 * carry. Handlers parse and delegate to the stores (db/notify.store.ts).
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { NotifyStore } from '../../../db/notify.port.ts';
import type { RelationalStore } from '../../../db/relational.port.ts';
import type { EmailResponse, PushSubscriptionRequest, PushSubscriptionResponse, RoomMuteRequest, RoomMuteResponse, VapidKeyResponse } from '../../../protocol/http.ts';
import { textSchema } from '../../../protocol/text.schema.ts';
import { pushEndpointProblem, type PushEndpointPolicy } from '../../../workers/tasks/push.endpoint.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { Handler, Req, RouteModule } from '../http/route.ts';
import { readJson, sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';

/** Most push subscriptions one account keeps (one per browser or device). */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

export interface PushDeps {
  notify: Pick<NotifyStore, 'subscriptionsOf' | 'addSubscription' | 'removeSubscription' | 'setEmail' | 'unsubscribe'>;
  /** Where a member's mute of a room is kept. */
  rooms: Pick<RelationalStore, 'setMuted'>;
  /** The VAPID public key the app subscribes with; undefined when push is off. */
  vapidPublicKey: string | undefined;
  /** Which push endpoints subscriptions may name. */
  pushEndpoints: PushEndpointPolicy;
  log: Logger;
}

const b64 = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, 'must be base64url')
    .refine((v) => Buffer.from(v, 'base64url').length === bytes, `must be ${what}`);

/** An endpoint is stored and looked up as given: it follows the text rule. */
const endpointSchema = textSchema('plain').min(1).max(2048);

const subscriptionSchema = z.object({
  endpoint: endpointSchema,
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: b64(65, 'an uncompressed P-256 public key').refine((v) => Buffer.from(v, 'base64url')[0] === 4, 'must be an uncompressed P-256 public key'),
    auth: b64(16, '16 bytes'),
  }),
});

/** The notification routes. */
export function pushRoutes(deps: PushDeps): RouteModule {
  const { notify, log } = deps;
  return ({ anyone, signedIn }) => {
    signedIn.get('/api/push/vapid-public-key', async (_req, res) => {
      const key = deps.vapidPublicKey;
      if (!key) throw new AppError('push_not_configured');
      sendJson(res, 200, { publicKey: key } satisfies VapidKeyResponse);
    });

    signedIn.post('/api/push/subscriptions', async (req, res) => {
      const { user } = req.caller;
      if (!deps.vapidPublicKey) throw new AppError('push_not_configured');
      const sub = parseWith(subscriptionSchema, await readJson(req)) satisfies PushSubscriptionRequest;
      const problem = await pushEndpointProblem(sub.endpoint, deps.pushEndpoints);
      if (problem) {
        // The reason stays in the log: whether a name resolves, and where to, is not the client's to learn.
        log.info({ user: user.id, problem }, 'push endpoint refused');
        throw new AppError('invalid_push_endpoint');
      }
      const mine = await notify.subscriptionsOf(user.id);
      if (!mine.some((s) => s.endpoint === sub.endpoint) && mine.length >= MAX_SUBSCRIPTIONS_PER_USER) throw new AppError('too_many_subscriptions');
      const saved = await notify.addSubscription(user.id, { endpoint: sub.endpoint, keys: sub.keys });
      sendJson(res, 201, { id: saved.id } satisfies PushSubscriptionResponse);
    });

    signedIn.delete('/api/push/subscriptions', async (req, res) => {
      const { user } = req.caller;
      const { endpoint } = parseWith(z.object({ endpoint: endpointSchema }), await readJson(req));
      if (!(await notify.removeSubscription(user.id, endpoint))) throw new AppError('not_found');
      res.writeHead(204).end();
    });

    signedIn.put('/api/notifications/email', async (req, res) => {
      const { user } = req.caller;
      const { email } = parseWith(z.object({ email: z.email().max(320).nullable() }), await readJson(req));
      const prefs = await notify.setEmail(user.id, email);
      sendJson(res, 200, { email: prefs.email, emailDigest: prefs.emailDigest } satisfies EmailResponse);
    });

    // Per member, and only a current member's: anyone else learns nothing (room_not_found).
    signedIn.put('/api/rooms/:room/mute', async (req, res) => {
      const { user } = req.caller;
      const { room } = parseWith(z.object({ room: z.string().regex(/^[0-9A-Za-z_-]{1,64}$/) }), req.params);
      const { muted } = parseWith(z.strictObject({ muted: z.boolean() }), await readJson(req)) satisfies RoomMuteRequest;
      if (!(await deps.rooms.setMuted(room, user.id, muted))) throw new AppError('room_not_found');
      sendJson(res, 200, { room, muted } satisfies RoomMuteResponse);
    });

    // The digest's link: the token is the credential (no session, any origin), so one click in any
    // mail client works; POST is RFC 8058 one-click unsubscribe.
    const unsubscribe: Handler<Req> = async (req, res) => {
      const { token } = parseWith(z.object({ token: textSchema('plain').min(10).max(64) }), req.query);
      if (!(await notify.unsubscribe(token))) throw new AppError('not_found');
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('You will not get e-mail digests any more.\n');
    };
    anyone.get('/api/notifications/unsubscribe', unsubscribe);
    anyone.post('/api/notifications/unsubscribe', unsubscribe);
  };
}
