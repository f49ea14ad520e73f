/**
 * The OAuth providers: where each one's endpoints are, what to ask for, and how its profile
 * response maps to ours. Every mapping keys the account by the provider's immutable user id
 * (`subject`), never by e-mail. Endpoints can be replaced (constructor option, not environment) so
 * tests serve each provider's real response shape from a local server.
 */
import { sanitiseName, textProblem } from '../../../protocol/text.ts';
import type { OAuthClientConfig, OAuthProviderId } from '../config.ts';

/** What sign-in takes from a provider's profile. */
export interface ProviderProfile {
  /** The provider's immutable user id. */
  subject: string;
  /** A login name to suggest a handle from, if the provider has one. */
  login: string | null;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
  /** An https URL, or null. */
  avatarUrl: string | null;
}

export interface ProviderEndpoints {
  authorize: string;
  token: string;
  userinfo: string;
  /** GitHub only: the user's e-mail addresses (/user/emails). */
  emails?: string;
}

export interface ProviderSpec {
  id: OAuthProviderId;
  name: string;
  scope: string;
  /** How the client authenticates at the token endpoint. */
  clientAuth: 'header' | 'body';
  endpoints(): Promise<ProviderEndpoints>;
  /** Fetches and maps the profile with an access token. */
  profile(accessToken: string): Promise<ProviderProfile>;
}

const DEFAULTS: Record<Exclude<OAuthProviderId, 'oidc'>, ProviderEndpoints> = {
  google: {
    authorize: 'https://accounts.google.com/o/oauth2/v2/auth',
    token: 'https://oauth2.googleapis.com/token',
    userinfo: 'https://openidconnect.googleapis.com/v1/userinfo',
  },
  yandex: {
    authorize: 'https://oauth.yandex.ru/authorize',
    token: 'https://oauth.yandex.ru/token',
    userinfo: 'https://login.yandex.ru/info?format=json',
  },
  github: {
    authorize: 'https://github.com/login/oauth/authorize',
    token: 'https://github.com/login/oauth/access_token',
    userinfo: 'https://api.github.com/user',
    emails: 'https://api.github.com/user/emails',
  },
};

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
/**
 * A value we key or mail by (subject, e-mail): taken only as the provider sent it, when it passes
 * the text rule and fits its column; never altered, so two different values never become one.
 */
const exact = (v: unknown, max: number): string | null => {
  const s = str(v);
  return s !== null && s.length <= max && textProblem(s, 'plain') === null ? s : null;
};
/**
 * Profile text shown as a name (name, login): not the user's input to refuse, so it is made a
 * valid name by the text rule instead (protocol/text.ts, sanitiseName); null when nothing is left.
 */
const shownName = (v: unknown): string | null => (typeof v === 'string' ? sanitiseName(v) : null);
/** The URL as the URL parser serialises it: controls the raw string may hold are stripped or escaped. */
const httpsUrl = (v: unknown): string | null => {
  const s = str(v);
  return s && URL.canParse(s) && new URL(s).protocol === 'https:' ? new URL(s).href : null;
};
/** Column sizes of `identities` (db/migrations/002_auth.ts). */
const SUBJECT_MAX = 255;
const EMAIL_MAX = 320;

/** Google's OpenID Connect userinfo: sub, name, email, email_verified, picture. */
export function mapGoogle(u: Json): ProviderProfile {
  return mapOidc(u);
}

/** Any OpenID Connect userinfo (standard claims). */
export function mapOidc(u: Json): ProviderProfile {
  const subject = exact(u.sub, SUBJECT_MAX);
  if (!subject) throw new Error('userinfo has no usable sub');
  return {
    subject,
    login: shownName(u.preferred_username) ?? shownName(u.nickname),
    name: shownName(u.name) ?? shownName([str(u.given_name), str(u.family_name)].filter(Boolean).join(' ')),
    email: exact(u.email, EMAIL_MAX),
    emailVerified: u.email_verified === true || u.email_verified === 'true',
    avatarUrl: httpsUrl(u.picture),
  };
}

/**
 * Yandex ID (login.yandex.ru/info?format=json): id, login, display_name, real_name, default_email,
 * default_avatar_id, is_avatar_empty. Avatars are served from avatars.yandex.net by id.
 */
export function mapYandex(u: Json): ProviderProfile {
  const subject = exact(u.id, SUBJECT_MAX);
  if (!subject) throw new Error('Yandex profile has no usable id');
  const avatarId = str(u.default_avatar_id);
  const email = exact(u.default_email, EMAIL_MAX);
  return {
    subject,
    login: shownName(u.login),
    name: shownName(u.display_name) ?? shownName(u.real_name) ?? shownName(u.login),
    email,
    // Yandex only hands out addresses of its own accounts, which it has verified.
    emailVerified: email !== null,
    avatarUrl: avatarId && u.is_avatar_empty !== true ? `https://avatars.yandex.net/get-yapic/${encodeURIComponent(avatarId)}/islands-200` : null,
  };
}

/** GitHub /user (id is a number; name and email may be null) and /user/emails. */
export function mapGithub(u: Json, emails: unknown): ProviderProfile {
  if (typeof u.id !== 'number' || !Number.isSafeInteger(u.id)) throw new Error('GitHub profile has no numeric id');
  const list = Array.isArray(emails) ? (emails as Json[]) : [];
  const primary = list.find((e) => e.primary === true && e.verified === true && exact(e.email, EMAIL_MAX));
  const email = exact(primary?.email, EMAIL_MAX) ?? exact(u.email, EMAIL_MAX);
  return {
    subject: String(u.id),
    login: shownName(u.login),
    name: shownName(u.name) ?? shownName(u.login),
    email,
    emailVerified: primary !== undefined,
    avatarUrl: httpsUrl(u.avatar_url),
  };
}

async function getJson(url: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(url, { headers: { Accept: 'application/json', ...headers }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${new URL(url).host} answered ${res.status}`);
  return res.json();
}

/** The spec of one configured provider; `endpoints` replaces any of its URLs (tests). */
export function providerSpec(id: OAuthProviderId, client: OAuthClientConfig, endpoints: Partial<ProviderEndpoints> = {}): ProviderSpec {
  if (id === 'oidc') return oidcSpec(client, endpoints);
  const ep = { ...DEFAULTS[id], ...endpoints };
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  switch (id) {
    case 'google':
      return {
        id,
        name: client.name,
        scope: 'openid email profile',
        clientAuth: 'body',
        endpoints: async () => ep,
        profile: async (token) => mapGoogle((await getJson(ep.userinfo, bearer(token))) as Json),
      };
    case 'yandex':
      return {
        id,
        name: client.name,
        scope: 'login:info login:email login:avatar',
        clientAuth: 'body',
        endpoints: async () => ep,
        // Yandex's documented scheme is "OAuth <token>".
        profile: async (token) => mapYandex((await getJson(ep.userinfo, { Authorization: `OAuth ${token}` })) as Json),
      };
    case 'github': {
      const gh = (token: string) => ({ ...bearer(token), Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', 'User-Agent': 'messenger' });
      return {
        id,
        name: client.name,
        scope: 'read:user user:email',
        clientAuth: 'body',
        endpoints: async () => ep,
        profile: async (token) => {
          const [user, emails] = await Promise.all([
            getJson(ep.userinfo, gh(token)),
            // Without the user:email grant this is 404; the profile still works, without an address.
            getJson(ep.emails!, gh(token)).catch(() => []),
          ]);
          return mapGithub(user as Json, emails);
        },
      };
    }
  }
}

/** A generic OpenID Connect provider found by discovery at its issuer. */
function oidcSpec(client: OAuthClientConfig, overrides: Partial<ProviderEndpoints>): ProviderSpec {
  let discovered: Promise<ProviderEndpoints & { basic: boolean }> | undefined;
  const discover = () =>
    (discovered ??= (async () => {
      const issuer = client.issuer!.replace(/\/$/, '');
      const doc = (await getJson(`${issuer}/.well-known/openid-configuration`, {})) as Json;
      if (str(doc.issuer)?.replace(/\/$/, '') !== issuer) throw new Error('discovery document names another issuer');
      const methods = Array.isArray(doc.token_endpoint_auth_methods_supported) ? doc.token_endpoint_auth_methods_supported : ['client_secret_basic'];
      return {
        authorize: overrides.authorize ?? String(doc.authorization_endpoint),
        token: overrides.token ?? String(doc.token_endpoint),
        userinfo: overrides.userinfo ?? String(doc.userinfo_endpoint),
        basic: methods.includes('client_secret_basic'),
      };
    })().catch((err) => {
      // Retry discovery on the next sign-in rather than caching a failure forever.
      discovered = undefined;
      throw err;
    }));
  return {
    id: 'oidc',
    name: client.name,
    scope: 'openid email profile',
    clientAuth: 'header',
    endpoints: discover,
    profile: async (token) => mapOidc((await getJson((await discover()).userinfo, { Authorization: `Bearer ${token}` })) as Json),
  };
}
