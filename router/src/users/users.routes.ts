/**
 * The user directory: find a user by handle to start a chat, or read a profile by id. Signed-in
 * users only, so the directory cannot be enumerated anonymously.
 */
import type { IncomingMessage } from 'node:http';
import type { Polka } from 'polka';
import { z } from 'zod';
import { handleSchema } from '../../../protocol/auth.schema.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { RouteModule } from '../http/app.ts';
import { requireCaller, sendJson } from '../http/caller.ts';
import { parseWith } from '../http/validate.ts';
import type { RouterContext } from '../router.context.ts';

type Req = IncomingMessage & { params: Record<string, string>; query: Record<string, unknown> };

export const usersRoutes: RouteModule = (app: Polka, ctx: RouterContext) => {
  app.get('/api/users', async (req, res) => {
    await requireCaller(req, ctx);
    const { handle } = parseWith(z.object({ handle: handleSchema }), (req as Req).query);
    const user = await ctx.auth.profileByHandle(handle);
    if (!user) throw new AppError('user_not_found');
    sendJson(res, 200, { user });
  });

  app.get('/api/users/:id', async (req, res) => {
    await requireCaller(req, ctx);
    const { id } = parseWith(z.object({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) }), (req as Req).params);
    const user = await ctx.auth.profile(id);
    if (!user) throw new AppError('user_not_found');
    sendJson(res, 200, { user });
  });
};
