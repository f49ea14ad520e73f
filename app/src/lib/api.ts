/**
 * The router's HTTP API (docs/http-api.md), typed with the shared shapes in protocol/auth.ts.
 * Every call is same-origin with the session cookie; errors become ApiError with the stable code.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { UserProfileJson } from '$protocol/auth.ts';

export type User = UserProfileJson;

/** An error answer of the API (`code` from docs/errors.md), or `network` when the router is unreachable. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('network', 'You are offline or the server is unreachable.', 0);
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) throw new ApiError(json.error?.code ?? 'internal', json.error?.message ?? res.statusText, res.status);
  return json as T;
}

export interface Passkey {
  id: string;
  name: string | null;
  deviceType: string;
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}
export interface Identity {
  id: string;
  provider: string;
  email: string | null;
  displayName: string | null;
  createdAt: string;
}
export interface Provider {
  id: string;
  name: string;
  start: string;
}

export const api = {
  me: () => call<{ user: User; session: { expiresAt: string } }>('GET', '/api/me'),
  updateMe: (patch: { displayName?: string; avatarUrl?: string | null }) => call<{ user: User }>('PATCH', '/api/me', patch),
  providers: () => call<{ providers: Provider[] }>('GET', '/api/auth/providers'),
  async signUp(handle: string, displayName: string): Promise<User> {
    const optionsJSON = await call<Parameters<typeof startRegistration>[0]['optionsJSON']>('POST', '/api/passkeys/signup/options', { handle, displayName });
    const response = await startRegistration({ optionsJSON });
    return (await call<{ user: User }>('POST', '/api/passkeys/signup/verify', response)).user;
  },
  async signIn(): Promise<User> {
    const optionsJSON = await call<Parameters<typeof startAuthentication>[0]['optionsJSON']>('POST', '/api/passkeys/signin/options');
    const response = await startAuthentication({ optionsJSON });
    return (await call<{ user: User }>('POST', '/api/passkeys/signin/verify', response)).user;
  },
  passkeys: () => call<{ passkeys: Passkey[] }>('GET', '/api/passkeys'),
  async addPasskey(name?: string): Promise<Passkey[]> {
    const optionsJSON = await call<Parameters<typeof startRegistration>[0]['optionsJSON']>('POST', '/api/passkeys/options', name ? { name } : {});
    const response = await startRegistration({ optionsJSON });
    return (await call<{ passkeys: Passkey[] }>('POST', '/api/passkeys', response)).passkeys;
  },
  deletePasskey: (id: string) => call<void>('DELETE', `/api/passkeys/${encodeURIComponent(id)}`),
  identities: () => call<{ identities: Identity[] }>('GET', '/api/identities'),
  deleteIdentity: (id: string) => call<void>('DELETE', `/api/identities/${encodeURIComponent(id)}`),
  signOut: () => call<void>('POST', '/api/signout'),
  signOutEverywhere: () => call<{ ended: number }>('POST', '/api/signout/everywhere'),
  userByHandle: (handle: string) => call<{ user: User }>('GET', `/api/users?handle=${encodeURIComponent(handle)}`),
  user: (id: number) => call<{ user: User }>('GET', `/api/users/${id}`),
  vapidKey: () => call<{ publicKey: string }>('GET', '/api/push/vapid-public-key'),
  addPushSubscription: (sub: PushSubscriptionJSON) => call<{ id: string }>('POST', '/api/push/subscriptions', sub),
  removePushSubscription: (endpoint: string) => call<void>('DELETE', '/api/push/subscriptions', { endpoint }),
};
