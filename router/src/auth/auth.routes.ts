/**
 * Sign-in with OAuth providers, the signed-in user's profile and linked identities, and sign-out.
 * Handlers parse and delegate (oauth.service.ts, session.ts); docs/http-api.md lists them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuthStore } from '../../../db/auth.port.ts';
import { profilePatchBody } from '../../../protocol/auth.schema.ts';
import type { IdentitiesResponse, MeResponse, ProvidersResponse, SignOutEverywhereResponse, UserResponse } from '../../../protocol/http.ts';
import { localPath } from '../../../protocol/local-path.ts';
import { AppError, toAppError } from '../../../protocol/app-error.ts';
import { bindingCookie, bindingCookieName, cookieValue } from './cookies.ts';
import { addCookie, clearSessionCookie, renewCookie, signIn, signOut, signOutEverywhere, type SessionDeps } from './session.ts';
import type { Caller, RouteModule } from '../http/route.ts';
import { readJson, sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import type { OAuthService } from './oauth.service.ts';
import type { SignInLimiter } from './signin.limiter.ts';
import type { ProfileService } from '../users/profile.service.ts';

export interface AuthDeps extends SessionDeps {
  auth: Pick<AuthStore, 'profile' | 'listIdentities' | 'removeIdentity'>;
  /** Profile changes, announced to the user's contacts. */
  profiles: Pick<ProfileService, 'update'>;
  oauth: OAuthService;
  limiter: SignInLimiter;
  /** The signed-in caller, or null: OAuth start and callback take a session only when linking. */
  callerOf(req: IncomingMessage): Promise<Caller | null>;
  /** `authAttemptTtlMs`: how long the OAuth binding cookie lives, ms. */
  config: SessionDeps['config'] & { authAttemptTtlMs: number };
  log: Logger;
}

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

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/** The auth routes. */
export function authRoutes(deps: AuthDeps): RouteModule {
  const { auth, profiles, oauth, limiter, config, log } = deps;
  return ({ anyone, sameOrigin, signedIn }) => {
    signedIn.get('/api/me', async (req, res) => {
      const user = await auth.profile(req.caller.user.id);
      if (!user) throw new AppError('unauthenticated');
      renewCookie(res, deps, req.caller.session);
      // Touched at most once a minute (session.activity.ts): the store's expiry runs from the last mark.
      sendJson(res, 200, { user, session: { expiresAt: req.caller.session.lastActiveAt + config.sessionTtlMs } } satisfies MeResponse);
    });

    signedIn.patch('/api/me', async (req, res) => {
      const change = parseWith(profilePatchBody, await readJson(req));
      const user = await profiles.update(req.caller.user.id, change);
      if (!user) throw new AppError('unauthenticated');
      sendJson(res, 200, { user } satisfies UserResponse);
    });

    anyone.get('/api/auth/providers', (_req, res) => {
      sendJson(res, 200, { providers: oauth.providers().map((p) => ({ ...p, start: `/api/auth/${p.id}/start` })) } satisfies ProvidersResponse);
    });

    anyone.get('/api/auth/:provider/start', async (req, res) => {
      // The callback needs the state this mints, so counting starts bounds callbacks too.
      await limiter.admit(req, res, 'signin');
      const q = parseWith(startQuery, req.query);
      const returnTo = q.returnTo === undefined ? '/' : localPath(q.returnTo);
      if (returnTo === null) throw new AppError('invalid_request', 'returnTo: must be a path on this site');
      let linkUserId: number | null = null;
      if (q.link === '1') {
        const caller = await deps.callerOf(req);
        if (!caller) throw new AppError('unauthenticated');
        linkUserId = caller.user.id;
      }
      const { url, binding } = await oauth.start(req.params.provider!, returnTo, linkUserId);
      addCookie(res, bindingCookie(binding, config.publicOrigin, config.authAttemptTtlMs));
      redirect(res, url);
    });

    anyone.get('/api/auth/:provider/callback', async (req, res) => {
      // The binding is single use like the state: gone whatever happens next.
      addCookie(res, bindingCookie('', config.publicOrigin, 0));
      try {
        const q = parseWith(callbackQuery, req.query);
        const outcome = await oauth.callback(req.params.provider!, q, cookieValue(req.headers.cookie, bindingCookieName(config.publicOrigin)));
        if (outcome.linkUserId !== null) {
          // Linking needs the same user still signed in in this browser.
          const caller = await deps.callerOf(req);
          if (caller?.user.id !== outcome.linkUserId) throw new AppError('oauth_failed');
          await oauth.resolveUser(outcome);
        } else {
          await signIn(req, res, deps, await oauth.resolveUser(outcome), req.params.provider!);
        }
        // Checked again on the way out: an attempt stored before the rule was tightened may hold a
        // path that normalised to another host.
        redirect(res, localPath(outcome.returnTo) ?? '/');
      } catch (err) {
        const e = toAppError(err);
        if (e.code === 'internal') log.error({ err }, 'oauth callback failed');
        // A top-level navigation: send the browser back to the app, which shows the error by code.
        redirect(res, `/?auth_error=${e.code}`);
      }
    });

    signedIn.get('/api/identities', async (req, res) => {
      const identities = await auth.listIdentities(req.caller.user.id);
      sendJson(res, 200, {
        identities: identities.map(({ id, provider, email, displayName, createdAt }) => ({ id, provider, email, displayName, createdAt })),
      } satisfies IdentitiesResponse);
    });

    signedIn.delete('/api/identities/:id', async (req, res) => {
      const { id } = parseWith(idParam, req.params);
      const outcome = await auth.removeIdentity(req.caller.user.id, id);
      if (outcome === 'not_found') throw new AppError('not_found');
      if (outcome === 'last') throw new AppError('last_credential');
      res.writeHead(204).end();
    });

    sameOrigin.post('/api/signout', async (req, res) => {
      await signOut(req, res, deps);
      res.writeHead(204).end();
    });

    signedIn.post('/api/signout/everywhere', async (req, res) => {
      const ended = await signOutEverywhere(deps, req.caller.user.id);
      clearSessionCookie(res);
      sendJson(res, 200, { ended } satisfies SignOutEverywhereResponse);
    });
  };
}
