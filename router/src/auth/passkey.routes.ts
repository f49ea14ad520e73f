/**
 * Passkey sign-up, sign-in and the signed-in user's passkeys. Handlers parse and delegate to
 * passkey.service.ts; every route here changes state or mints a challenge, so each checks Origin.
 */
import type { IncomingMessage } from 'node:http';
import type { Polka } from 'polka';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { passkeyIdParam, passkeyNameBody, signupOptionsBody, webauthnResponseBody } from '../../../protocol/auth.schema.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { signIn } from './session.ts';
import type { RouteModule } from '../http/app.ts';
import { readJson, requireCaller, requireSameOrigin, sendJson } from '../http/caller.ts';
import { parseWith } from '../http/validate.ts';
import { PasskeyService } from './passkey.service.ts';
import { SignInLimiter } from './signin.limiter.ts';
import type { RouterContext } from '../router.context.ts';

export const passkeyRoutes: RouteModule = (app: Polka, ctx: RouterContext) => {
  const passkeys = new PasskeyService(ctx);
  const limiter = new SignInLimiter(ctx);
  const webauthnBody = async <T>(req: IncomingMessage) => parseWith(webauthnResponseBody, await readJson(req)) as unknown as T;

  app.post('/api/passkeys/signup/options', async (req, res) => {
    requireSameOrigin(req, ctx);
    await limiter.admit(req, res, 'signup');
    const { handle, displayName } = parseWith(signupOptionsBody, await readJson(req));
    sendJson(res, 200, await passkeys.signupOptions(handle, displayName));
  });

  app.post('/api/passkeys/signup/verify', async (req, res) => {
    requireSameOrigin(req, ctx);
    const user = await passkeys.signupVerify(await webauthnBody<RegistrationResponseJSON>(req));
    await signIn(req, res, ctx, user.id);
    sendJson(res, 200, { user });
  });

  app.post('/api/passkeys/signin/options', async (req, res) => {
    requireSameOrigin(req, ctx);
    await limiter.admit(req, res, 'signin');
    sendJson(res, 200, await passkeys.signinOptions());
  });

  app.post('/api/passkeys/signin/verify', async (req, res) => {
    requireSameOrigin(req, ctx);
    const userId = await passkeys.signinVerify(await webauthnBody<AuthenticationResponseJSON>(req));
    await signIn(req, res, ctx, userId);
    sendJson(res, 200, { user: await ctx.auth.profile(userId) });
  });

  app.get('/api/passkeys', async (req, res) => {
    const caller = await requireCaller(req, ctx);
    sendJson(res, 200, { passkeys: await ctx.auth.listPasskeys(caller.user.id) });
  });

  app.post('/api/passkeys/options', async (req, res) => {
    requireSameOrigin(req, ctx);
    const caller = await requireCaller(req, ctx);
    const { name } = parseWith(passkeyNameBody, await readJson(req));
    const user = await ctx.auth.profile(caller.user.id);
    if (!user) throw new AppError('unauthenticated');
    sendJson(res, 200, await passkeys.addOptions(user, name));
  });

  app.post('/api/passkeys', async (req, res) => {
    requireSameOrigin(req, ctx);
    const caller = await requireCaller(req, ctx);
    const list = await passkeys.addVerify(caller.user.id, await webauthnBody<RegistrationResponseJSON>(req));
    sendJson(res, 201, { passkeys: list });
  });

  app.delete('/api/passkeys/:id', async (req, res) => {
    requireSameOrigin(req, ctx);
    const caller = await requireCaller(req, ctx);
    const { id } = parseWith(passkeyIdParam, req.params);
    const outcome = await ctx.auth.removePasskey(caller.user.id, id);
    if (outcome === 'not_found') throw new AppError('passkey_not_found');
    if (outcome === 'last') throw new AppError('last_credential');
    res.writeHead(204).end();
  });
};
