/**
 * Notification settings over HTTP: the VAPID public key the app subscribes with, saving and
 * removing web-push subscriptions, the digest e-mail address, and the unsubscribe link digests
 * carry. Handlers parse and delegate to the stores (db/notify.store.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Polka } from 'polka';
import { z } from 'zod';
import { textSchema } from '../../../protocol/text.schema.ts';
import { pushEndpointProblem } from '../../../workers/tasks/push.endpoint.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { RouteModule } from '../http/app.ts';
import { readJson, requireCaller, requireSameOrigin, sendJson } from '../http/caller.ts';
import { parseWith } from '../http/validate.ts';
import type { RouterContext } from '../router.context.ts';

/** Most push subscriptions one account keeps (one per browser or device). */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

type Req = IncomingMessage & { query: Record<string, unknown> };

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

export const pushRoutes: RouteModule = (app: Polka, ctx: RouterContext) => {
  app.get('/api/push/vapid-public-key', async (req, res) => {
    await requireCaller(req, ctx);
    const key = ctx.notifications.vapidPublicKey;
    if (!key) throw new AppError('push_not_configured');
    sendJson(res, 200, { publicKey: key });
  });

  app.post('/api/push/subscriptions', async (req, res) => {
    requireSameOrigin(req, ctx);
    const { user } = await requireCaller(req, ctx);
    if (!ctx.notifications.vapidPublicKey) throw new AppError('push_not_configured');
    const sub = parseWith(subscriptionSchema, await readJson(req));
    const problem = await pushEndpointProblem(sub.endpoint, ctx.notifications.pushEndpoints);
    if (problem) {
      // The reason stays in the log: whether a name resolves, and where to, is not the client's to learn.
      ctx.log.info({ user: user.id, problem }, 'push endpoint refused');
      throw new AppError('invalid_push_endpoint');
    }
    const mine = await ctx.notify.subscriptionsOf(user.id);
    if (!mine.some((s) => s.endpoint === sub.endpoint) && mine.length >= MAX_SUBSCRIPTIONS_PER_USER) throw new AppError('too_many_subscriptions');
    const saved = await ctx.notify.addSubscription(user.id, { endpoint: sub.endpoint, keys: sub.keys });
    sendJson(res, 201, { id: saved.id });
  });

  app.delete('/api/push/subscriptions', async (req, res) => {
    requireSameOrigin(req, ctx);
    const { user } = await requireCaller(req, ctx);
    const { endpoint } = parseWith(z.object({ endpoint: endpointSchema }), await readJson(req));
    if (!(await ctx.notify.removeSubscription(user.id, endpoint))) throw new AppError('not_found');
    res.writeHead(204).end();
  });

  app.put('/api/notifications/email', async (req, res) => {
    requireSameOrigin(req, ctx);
    const { user } = await requireCaller(req, ctx);
    const { email } = parseWith(z.object({ email: z.email().max(320).nullable() }), await readJson(req));
    const prefs = await ctx.notify.setEmail(user.id, email);
    sendJson(res, 200, { email: prefs.email, emailDigest: prefs.emailDigest });
  });

  // The digest's link: the token is the credential (no session, any origin), so one click in any
  // mail client works; POST is RFC 8058 one-click unsubscribe.
  const unsubscribe = async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const { token } = parseWith(z.object({ token: textSchema('plain').min(10).max(64) }), (req as Req).query);
    if (!(await ctx.notify.unsubscribe(token))) throw new AppError('not_found');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end('You will not get e-mail digests any more.\n');
  };
  app.get('/api/notifications/unsubscribe', unsubscribe);
  app.post('/api/notifications/unsubscribe', unsubscribe);
};
