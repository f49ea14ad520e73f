/**
 * Passkey sign-up, sign-in and the signed-in user's passkeys. Handlers parse and delegate to
 * passkey.service.ts; every route here but the list changes state or mints a challenge, so all
 * are in a group that checks Origin.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthStore } from '../../../db/auth.port.ts';
import { passkeyIdParam, passkeyNameBody, passkeyRenameBody, signupOptionsBody, webauthnResponseBody } from '../../../protocol/auth.schema.ts';
import type {
  AuthenticationRequest,
  CreationOptionsResponse,
  PasskeyResponse,
  PasskeysResponse,
  RegistrationRequest,
  RequestOptionsResponse,
  UserResponse,
} from '../../../protocol/http.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { signIn, type SessionDeps } from './session.ts';
import type { RouteModule } from '../http/route.ts';
import { readJson, sendJson } from '../http/json.ts';
import { parseWith } from '../http/validate.ts';
import type { PasskeyService } from './passkey.service.ts';
import type { SignInLimiter } from './signin.limiter.ts';

export interface PasskeyRoutesDeps extends SessionDeps {
  auth: Pick<AuthStore, 'profile' | 'listPasskeys' | 'removePasskey' | 'renamePasskey'>;
  passkeys: PasskeyService;
  limiter: SignInLimiter;
}

/** The passkey routes. */
export function passkeyRoutes(deps: PasskeyRoutesDeps): RouteModule {
  const { auth, passkeys, limiter } = deps;
  // The shape is checked here; what it says, the service verifies.
  const webauthnBody = async <T>(req: IncomingMessage) => parseWith(webauthnResponseBody, await readJson(req)) as unknown as T;

  return ({ sameOrigin, signedIn }) => {
    sameOrigin.post('/api/passkeys/signup/options', async (req, res) => {
      await limiter.admit(req, res, 'signup');
      const { handle, displayName } = parseWith(signupOptionsBody, await readJson(req));
      sendJson(res, 200, (await passkeys.signupOptions(handle, displayName)) satisfies CreationOptionsResponse);
    });

    sameOrigin.post('/api/passkeys/signup/verify', async (req, res) => {
      const user = await passkeys.signupVerify(await webauthnBody<RegistrationRequest>(req), req.headers['user-agent']);
      await signIn(req, res, deps, user.id, 'passkey');
      sendJson(res, 200, { user } satisfies UserResponse);
    });

    sameOrigin.post('/api/passkeys/signin/options', async (req, res) => {
      await limiter.admit(req, res, 'signin');
      sendJson(res, 200, (await passkeys.signinOptions()) satisfies RequestOptionsResponse);
    });

    sameOrigin.post('/api/passkeys/signin/verify', async (req, res) => {
      const userId = await passkeys.signinVerify(await webauthnBody<AuthenticationRequest>(req));
      await signIn(req, res, deps, userId, 'passkey');
      const user = await auth.profile(userId);
      if (!user) throw new AppError('unauthenticated');
      sendJson(res, 200, { user } satisfies UserResponse);
    });

    signedIn.get('/api/passkeys', async (req, res) => {
      sendJson(res, 200, { passkeys: await auth.listPasskeys(req.caller.user.id) } satisfies PasskeysResponse);
    });

    signedIn.post('/api/passkeys/options', async (req, res) => {
      const { name } = parseWith(passkeyNameBody, await readJson(req));
      const user = await auth.profile(req.caller.user.id);
      if (!user) throw new AppError('unauthenticated');
      sendJson(res, 200, (await passkeys.addOptions(user, name)) satisfies CreationOptionsResponse);
    });

    signedIn.post('/api/passkeys', async (req, res) => {
      const list = await passkeys.addVerify(req.caller.user.id, await webauthnBody<RegistrationRequest>(req), req.headers['user-agent']);
      sendJson(res, 201, { passkeys: list } satisfies PasskeysResponse);
    });

    signedIn.patch('/api/passkeys/:id', async (req, res) => {
      const { id } = parseWith(passkeyIdParam, req.params);
      const { name } = parseWith(passkeyRenameBody, await readJson(req));
      const passkey = await auth.renamePasskey(req.caller.user.id, id, name);
      if (!passkey) throw new AppError('passkey_not_found');
      sendJson(res, 200, { passkey } satisfies PasskeyResponse);
    });

    signedIn.delete('/api/passkeys/:id', async (req, res) => {
      const { id } = parseWith(passkeyIdParam, req.params);
      const outcome = await auth.removePasskey(req.caller.user.id, id);
      if (outcome === 'not_found') throw new AppError('passkey_not_found');
      if (outcome === 'last') throw new AppError('last_credential');
      res.writeHead(204).end();
    });
  };
}
