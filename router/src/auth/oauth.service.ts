/**
 * OAuth 2.0 authorization-code sign-in (simple-oauth2) with Google, Yandex, GitHub and a generic
 * OpenID Connect provider.
 *
 * One attempt = a random `state` (the attempt store's key), a PKCE verifier (S256), the return
 * path, the user to link to (if any) and the hash of a random browser binding that only this
 * browser holds, in a short-lived HttpOnly cookie. The callback takes the attempt (single use,
 * whatever the outcome), checks provider and binding, exchanges the code with the verifier at the
 * exact redirect URI, and maps the profile. Accounts are found by (provider, subject) only: an
 * e-mail address never joins a provider account to an existing user.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthorizationCode } from 'simple-oauth2';
import { HandleTakenError, IdentityTakenError } from '../../../db/store.errors.ts';
import { AppError } from '../../../protocol/app-error.ts';
import { OAUTH_PROVIDERS, type OAuthProviderId } from '../config.ts';
import { providerSpec, type ProviderProfile, type ProviderSpec } from './oauth.providers.ts';
import type { Logger } from 'pino';
import type { AttemptStore } from '../../../db/attempt.port.ts';
import type { AuthStore } from '../../../db/auth.port.ts';
import type { Config } from '../config.ts';

export interface OAuthServiceDeps {
  auth: AuthStore;
  /** Where attempts wait for their callback. */
  attempts: AttemptStore;
  config: Pick<Config, 'oauth' | 'publicOrigin' | 'authAttemptTtlMs'>;
  log: Logger;
}

interface OAuthAttempt {
  provider: OAuthProviderId;
  verifier: string;
  returnTo: string;
  linkUserId: number | null;
  bindingHash: string;
}

/** What a completed callback means for the browser. */
export interface OAuthOutcome {
  provider: OAuthProviderId;
  profile: ProviderProfile;
  returnTo: string;
  /** Set when the attempt was started to link the provider to this (signed-in) user. */
  linkUserId: number | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export class OAuthService {
  readonly #specs = new Map<OAuthProviderId, ProviderSpec>();

  private readonly deps: OAuthServiceDeps;

  constructor(deps: OAuthServiceDeps) {
    this.deps = deps;
    for (const id of OAUTH_PROVIDERS) {
      const client = deps.config.oauth[id];
      if (client) this.#specs.set(id, providerSpec(id, client));
    }
  }

  /** The configured providers, for the sign-in screen. */
  providers(): Array<{ id: OAuthProviderId; name: string }> {
    return [...this.#specs.values()].map((s) => ({ id: s.id, name: s.name }));
  }

  /** The redirect URI registered at every provider. */
  redirectUri(provider: OAuthProviderId): string {
    return `${this.deps.config.publicOrigin}/api/auth/${provider}/callback`;
  }

  /** Begins an attempt: the provider's authorize URL and the browser binding to set as a cookie. */
  async start(provider: string, returnTo: string, linkUserId: number | null): Promise<{ url: string; binding: string }> {
    const spec = this.#spec(provider);
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(48).toString('base64url');
    const binding = randomBytes(32).toString('base64url');
    const attempt: OAuthAttempt = { provider: spec.id, verifier, returnTo, linkUserId, bindingHash: sha256(binding) };
    await this.deps.attempts.put(`oauth:${state}`, attempt, this.deps.config.authAttemptTtlMs);
    const client = await this.#client(spec);
    const url = client.authorizeURL({
      redirect_uri: this.redirectUri(spec.id),
      scope: spec.scope,
      state,
      code_challenge: sha256(verifier),
      code_challenge_method: 'S256',
    } as Parameters<AuthorizationCode['authorizeURL']>[0]);
    return { url, binding };
  }

  /**
   * Completes an attempt from the callback's query and the browser's binding cookie. Every failure
   * is `oauth_failed` (the log says which); the attempt is consumed either way.
   */
  async callback(provider: string, query: { state?: string; code?: string; error?: string }, binding: string | undefined): Promise<OAuthOutcome> {
    const spec = this.#spec(provider);
    const fail = (why: string, err?: unknown): never => {
      this.deps.log.info({ provider: spec.id, why, err: err === undefined ? undefined : String(err) }, 'oauth callback refused');
      throw new AppError('oauth_failed');
    };
    if (!query.state) return fail('no state');
    const attempt = await this.deps.attempts.take<OAuthAttempt>(`oauth:${query.state}`);
    if (!attempt) return fail('unknown, used or expired state');
    if (attempt.provider !== spec.id) return fail('state of another provider');
    if (!binding || !timingSafeEqual(Buffer.from(sha256(binding)), Buffer.from(attempt.bindingHash))) return fail('another browser');
    if (query.error || !query.code) return fail(`provider error ${query.error ?? 'without code'}`);
    let accessToken: unknown;
    try {
      const client = await this.#client(spec);
      const token = await client.getToken({ code: query.code, redirect_uri: this.redirectUri(spec.id), code_verifier: attempt.verifier } as Parameters<AuthorizationCode['getToken']>[0]);
      accessToken = token.token.access_token;
    } catch (err) {
      return fail('code exchange refused', err);
    }
    // GitHub reports a bad code as 200 with {error}; no access token is a failure whatever the status.
    if (typeof accessToken !== 'string' || !accessToken) return fail('no access token');
    let profile: ProviderProfile;
    try {
      profile = await spec.profile(accessToken);
    } catch (err) {
      return fail('profile fetch failed', err);
    }
    return { provider: spec.id, profile, returnTo: attempt.returnTo, linkUserId: attempt.linkUserId };
  }

  /**
   * The user an outcome signs in: the one already holding (provider, subject), else a new user.
   * Linking adds the identity to `linkUserId` instead (refused if another user holds it).
   */
  async resolveUser(outcome: OAuthOutcome): Promise<number> {
    const { auth } = this.deps;
    const { profile, provider } = outcome;
    const identity = { provider, subject: profile.subject, email: profile.email, displayName: profile.name };
    const existing = await auth.findIdentity(provider, profile.subject);
    if (outcome.linkUserId !== null) {
      if (existing && existing.userId !== outcome.linkUserId) throw new AppError('identity_taken');
      if (!existing) {
        try {
          await auth.linkIdentity(outcome.linkUserId, identity);
        } catch (err) {
          if (err instanceof IdentityTakenError) throw new AppError('identity_taken');
          throw err;
        }
      }
      return outcome.linkUserId;
    }
    if (existing) return existing.userId;
    // Both are valid names already (oauth.providers.ts); slicing here could split a surrogate pair.
    const displayName = profile.name ?? profile.login ?? 'New user';
    const base = suggestHandle(profile);
    for (let i = 0; i < 6; i++) {
      const handle = i === 0 ? base : `${base.slice(0, 25)}_${randomBytes(3).toString('hex')}`;
      try {
        const user = await auth.createUserWithIdentity({ handle, displayName, avatarUrl: profile.avatarUrl }, identity);
        return user.id;
      } catch (err) {
        // Two callbacks of one provider account racing: the other created it; sign in to that user.
        if (err instanceof IdentityTakenError) {
          const now = await auth.findIdentity(provider, profile.subject);
          if (now) return now.userId;
        }
        if (!(err instanceof HandleTakenError)) throw err;
      }
    }
    throw new AppError('unavailable');
  }

  #spec(provider: string): ProviderSpec {
    const spec = this.#specs.get(provider as OAuthProviderId);
    if (!spec) throw new AppError('provider_not_configured');
    return spec;
  }

  async #client(spec: ProviderSpec): Promise<AuthorizationCode> {
    const client = this.deps.config.oauth[spec.id]!;
    const ep = await spec.endpoints();
    const authorize = new URL(ep.authorize);
    const token = new URL(ep.token);
    return new AuthorizationCode({
      client: { id: client.clientId, secret: client.clientSecret },
      auth: {
        authorizeHost: authorize.origin,
        authorizePath: authorize.pathname + authorize.search,
        tokenHost: token.origin,
        tokenPath: token.pathname + token.search,
      },
      options: { authorizationMethod: spec.clientAuth, bodyFormat: 'form' },
    });
  }
}

/** A handle from the provider's login, e-mail name or display name: [a-z0-9_], 3–32 characters. */
export function suggestHandle(p: ProviderProfile): string {
  const source = p.login ?? p.email?.split('@')[0] ?? p.name ?? '';
  const cleaned = source
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32);
  return cleaned.length >= 3 ? cleaned : `user_${randomBytes(4).toString('hex')}`;
}
