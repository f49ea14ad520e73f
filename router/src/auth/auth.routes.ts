/**
 * Sign-in with OAuth providers, the signed-in user's profile and linked identities, and sign-out.
 * Handlers parse and delegate (oauth.service.ts, session.ts); docs/http-api.md lists them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Polka } from 'polka';
import { z } from 'zod';
import { profilePatchBody } from '../../../protocol/auth.schema.ts';
import { localPath } from '../../../protocol/local-path.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import { addCookie, clearSessionCookie, renewCookie, signIn, signOut, signOutEverywhere } from './session.ts';
import type { RouteModule } from '../http/app.ts';
import { callerOf, readJson, requireCaller, requireSameOrigin, sendJson } from '../http/caller.ts';
import { parseWith } from '../http/validate.ts';
import { OAuthService, type OAuthServiceOptions } from './oauth.service.ts';
import type { RouterContext } from '../router.context.ts';
import { SignInLimiter } from './signin.limiter.ts';

type Req = IncomingMessage & { params: Record<string, string>; query: Record<string, string | string[] | undefined> };

const startQuery = z.object({
  returnTo: z.string().optional(),
  link: z.enum(['0', '1']).optional(),
});
const callbackQuery = z.object({
  state: z.string().max(256).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(256).optional(),
});
const idParam = z.object({ id: z.coerce.number().int().positive() });

/** The OAuth binding cookie: `__Host-` over https (Secure, Path=/, no Domain), plain on http. */
function bindingCookieName(ctx: RouterContext): string {
  return ctx.config.publicOrigin.startsWith('https:') ? '__Host-oauth' : 'oauth';
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function bindingCookie(ctx: RouterContext, value: string, maxAgeMs: number): string {
  const secure = ctx.config.publicOrigin.startsWith('https:');
  return [`${bindingCookieName(ctx)}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.floor(maxAgeMs / 1000)}`, ...(secure ? ['Secure'] : [])].join('; ');
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/** The auth routes; `options` replaces provider endpoints (tests). */
export function authRoutes(options: OAuthServiceOptions = {}): RouteModule {
  return (app: Polka, ctx: RouterContext) => {
    const oauth = new OAuthService(ctx, options);
    const limiter = new SignInLimiter(ctx);

    app.get('/api/me', async (req, res) => {
      const caller = await requireCaller(req, ctx);
      const user = await ctx.auth.profile(caller.user.id);
      renewCookie(res, ctx, caller.session);
      sendJson(res, 200, { user, session: { expiresAt: Date.now() + ctx.config.sessionTtlMs } });
    });

    app.patch('/api/me', async (req, res) => {
      requireSameOrigin(req, ctx);
      const caller = await requireCaller(req, ctx);
      const change = parseWith(profilePatchBody, await readJson(req));
      sendJson(res, 200, { user: await ctx.auth.updateProfile(caller.user.id, change) });
    });

    app.get('/api/auth/providers', (_req, res) => {
      sendJson(res, 200, { providers: oauth.providers().map((p) => ({ ...p, start: `/api/auth/${p.id}/start` })) });
    });

    app.get('/api/auth/:provider/start', async (req, res) => {
      const { params, query } = req as Req;
      // The callback needs the state this mints, so counting starts bounds callbacks too.
      await limiter.admit(req, res, 'signin');
      const q = parseWith(startQuery, query);
      const returnTo = q.returnTo === undefined ? '/' : localPath(q.returnTo);
      if (returnTo === null) throw new AppError('invalid_request', 'returnTo: must be a path on this site');
      const linkUserId = q.link === '1' ? (await requireCaller(req, ctx)).user.id : null;
      const { url, binding } = await oauth.start(params.provider!, returnTo, linkUserId);
      addCookie(res, bindingCookie(ctx, binding, ctx.config.authAttemptTtlMs));
      redirect(res, url);
    });

    app.get('/api/auth/:provider/callback', async (req, res) => {
      const { params, query } = req as Req;
      // The binding is single use like the state: gone whatever happens next.
      addCookie(res, bindingCookie(ctx, '', 0));
      try {
        const q = parseWith(callbackQuery, query);
        const outcome = await oauth.callback(params.provider!, q, cookieValue(req.headers.cookie, bindingCookieName(ctx)));
        if (outcome.linkUserId !== null) {
          // Linking needs the same user still signed in in this browser.
          const caller = await callerOf(req, ctx);
          if (caller?.user.id !== outcome.linkUserId) throw new AppError('oauth_failed');
          await oauth.resolveUser(outcome);
        } else {
          await signIn(req, res, ctx, await oauth.resolveUser(outcome));
        }
        // Checked again on the way out: an attempt stored before the rule was tightened may hold a
        // path that normalised to another host.
        redirect(res, localPath(outcome.returnTo) ?? '/');
      } catch (err) {
        const e = toAppError(err);
        if (e.code === 'internal') ctx.log.error({ err }, 'oauth callback failed');
        // A top-level navigation: send the browser back to the app, which shows the error by code.
        redirect(res, `/?auth_error=${e.code}`);
      }
    });

    app.get('/api/identities', async (req, res) => {
      const caller = await requireCaller(req, ctx);
      const identities = await ctx.auth.listIdentities(caller.user.id);
      sendJson(res, 200, { identities: identities.map(({ id, provider, email, displayName, createdAt }) => ({ id, provider, email, displayName, createdAt })) });
    });

    app.delete('/api/identities/:id', async (req, res) => {
      requireSameOrigin(req, ctx);
      const caller = await requireCaller(req, ctx);
      const { id } = parseWith(idParam, (req as Req).params);
      const outcome = await ctx.auth.removeIdentity(caller.user.id, id);
      if (outcome === 'not_found') throw new AppError('not_found');
      if (outcome === 'last') throw new AppError('last_credential');
      res.writeHead(204).end();
    });

    app.post('/api/signout', async (req, res) => {
      requireSameOrigin(req, ctx);
      await signOut(req, res, ctx);
      res.writeHead(204).end();
    });

    app.post('/api/signout/everywhere', async (req, res) => {
      requireSameOrigin(req, ctx);
      const caller = await requireCaller(req, ctx);
      const ended = await signOutEverywhere(ctx, caller.user.id);
      clearSessionCookie(res);
      sendJson(res, 200, { ended });
    });
  };
}
