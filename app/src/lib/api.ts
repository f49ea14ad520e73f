/**
 * The router's HTTP API (docs/http-api.md), typed with the request and response shapes the router
 * answers with (protocol/http.ts). Every call is same-origin with the session cookie; errors become
 * ApiError with the stable code.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type {
  AccountDeleteRequest,
  AccountDeleteResponse,
  BlockResponse,
  BlocksResponse,
  CreationOptionsResponse,
  ErrorResponse,
  IdentitiesResponse,
  IdentityJson,
  MeResponse,
  PasskeyJson,
  PasskeyNameRequest,
  PasskeyRenameRequest,
  PasskeyResponse,
  PasskeysResponse,
  PrivacyRequest,
  PrivacyResponse,
  ProfilePatchRequest,
  ProviderJson,
  ProvidersResponse,
  PushSubscriptionResponse,
  PushUnsubscribeRequest,
  RequestOptionsResponse,
  RoomMuteRequest,
  RoomMuteResponse,
  SearchResponse,
  SessionJson,
  SessionsResponse,
  SignOutEverywhereResponse,
  SignOutOthersResponse,
  SignupOptionsRequest,
  UserProfileJson,
  UserResponse,
  GroupAvatarResponse,
  VapidKeyResponse,
} from '$protocol/http.ts';
import { sentenceFor } from './errors.ts';

export type User = UserProfileJson;
export type Passkey = PasskeyJson;
export type Identity = IdentityJson;
export type Provider = ProviderJson;
/** A signed-in session of the user (a device), as settings list it. */
export type DeviceSession = SessionJson;

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

/** `signal` aborts the call: it then rejects with the abort's DOMException, not an ApiError. */
async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      // A file goes as its raw bytes (the router sniffs the type); anything else as JSON.
      headers: body === undefined ? {} : body instanceof Blob ? { 'content-type': body.type || 'application/octet-stream' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : body instanceof Blob ? body : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError('network', 'You are offline or the server cannot be reached. Try again once connected.', 0);
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as Partial<ErrorResponse>;
  // The message is the app's sentence for the code (errors.ts), never the server's developer text.
  if (!res.ok) {
    const code = json.error?.code ?? 'internal';
    throw new ApiError(code, sentenceFor(code), res.status);
  }
  return json as T;
}

export const api = {
  me: () => call<MeResponse>('GET', '/api/me'),
  updateMe: (patch: ProfilePatchRequest) => call<UserResponse>('PATCH', '/api/me', patch),
  /** Makes `photo` the user's avatar (null removes it): docs/http-api.md, "Avatars". */
  setMyAvatar: (photo: Blob | null) => (photo ? call<UserResponse>('PUT', '/api/me/avatar', photo) : call<UserResponse>('DELETE', '/api/me/avatar')),
  /** The same for a group the user is an owner or admin of. */
  setGroupAvatar: (room: string, photo: Blob | null) =>
    call<GroupAvatarResponse>(photo ? 'PUT' : 'DELETE', `/api/groups/${encodeURIComponent(room)}/avatar`, photo ?? undefined),
  providers: () => call<ProvidersResponse>('GET', '/api/auth/providers'),
  async signUp(handle: string, displayName: string): Promise<User> {
    const optionsJSON = await call<CreationOptionsResponse>('POST', '/api/passkeys/signup/options', { handle, displayName } satisfies SignupOptionsRequest);
    const response = await startRegistration({ optionsJSON });
    return (await call<UserResponse>('POST', '/api/passkeys/signup/verify', response)).user;
  },
  async signIn(): Promise<User> {
    const optionsJSON = await call<RequestOptionsResponse>('POST', '/api/passkeys/signin/options');
    const response = await startAuthentication({ optionsJSON });
    return (await call<UserResponse>('POST', '/api/passkeys/signin/verify', response)).user;
  },
  passkeys: () => call<PasskeysResponse>('GET', '/api/passkeys'),
  async addPasskey(name?: string): Promise<Passkey[]> {
    const optionsJSON = await call<CreationOptionsResponse>('POST', '/api/passkeys/options', (name ? { name } : {}) satisfies PasskeyNameRequest);
    const response = await startRegistration({ optionsJSON });
    return (await call<PasskeysResponse>('POST', '/api/passkeys', response)).passkeys;
  },
  renamePasskey: (id: string, name: string) => call<PasskeyResponse>('PATCH', `/api/passkeys/${encodeURIComponent(id)}`, { name } satisfies PasskeyRenameRequest),
  deletePasskey: (id: string) => call<void>('DELETE', `/api/passkeys/${encodeURIComponent(id)}`),
  identities: () => call<IdentitiesResponse>('GET', '/api/identities'),
  deleteIdentity: (id: number) => call<void>('DELETE', `/api/identities/${id}`),
  signOut: () => call<void>('POST', '/api/signout'),
  signOutEverywhere: () => call<SignOutEverywhereResponse>('POST', '/api/signout/everywhere'),
  signOutOthers: () => call<SignOutOthersResponse>('POST', '/api/signout/others'),
  sessions: () => call<SessionsResponse>('GET', '/api/sessions'),
  endSession: (id: string) => call<void>('DELETE', `/api/sessions/${encodeURIComponent(id)}`),
  userByHandle: (handle: string) => call<UserResponse>('GET', `/api/users?handle=${encodeURIComponent(handle)}`),
  user: (id: number) => call<UserResponse>('GET', `/api/users/${id}`),
  vapidKey: () => call<VapidKeyResponse>('GET', '/api/push/vapid-public-key'),
  // What the browser's PushSubscription.toJSON() gives; the router checks it is a PushSubscriptionRequest.
  addPushSubscription: (sub: PushSubscriptionJSON) => call<PushSubscriptionResponse>('POST', '/api/push/subscriptions', sub),
  muteRoom: (room: string, muted: boolean) => call<RoomMuteResponse>('PUT', `/api/rooms/${encodeURIComponent(room)}/mute`, { muted } satisfies RoomMuteRequest),
  /** One page of messages matching `q`, in all the user's rooms or in `room` only; `cursor` is the previous page's `next`. */
  search(params: { q: string; room?: string; cursor?: string; limit?: number }, signal?: AbortSignal) {
    const query = new URLSearchParams({ q: params.q });
    if (params.room) query.set('room', params.room);
    if (params.cursor) query.set('cursor', params.cursor);
    if (params.limit) query.set('limit', String(params.limit));
    return call<SearchResponse>('GET', `/api/search?${query}`, undefined, signal);
  },
  /** Deletes the signed-in account; `handle` is its handle typed again to confirm. */
  deleteAccount: (handle: string) => call<AccountDeleteResponse>('DELETE', '/api/me', { handle } satisfies AccountDeleteRequest),
  /**
   * Downloads the account's data export (`GET /api/me/export`) as a file: fetched first, so a
   * refusal (`export_busy`) is said in words rather than saved as a file.
   */
  async exportData(): Promise<void> {
    let res: Response;
    try {
      res = await fetch('/api/me/export', { credentials: 'same-origin' });
    } catch {
      throw new ApiError('network', 'You are offline or the server cannot be reached. Try again once connected.', 0);
    }
    if (!res.ok) {
      const code = ((await res.json().catch(() => ({}))) as Partial<ErrorResponse>).error?.code ?? 'internal';
      throw new ApiError(code, sentenceFor(code), res.status);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'messenger-export.json';
    const url = URL.createObjectURL(await res.blob());
    const link = Object.assign(document.createElement('a'), { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  },
  blocks: () => call<BlocksResponse>('GET', '/api/blocks'),
  block: (user: number) => call<BlockResponse>('PUT', `/api/blocks/${user}`),
  unblock: (user: number) => call<void>('DELETE', `/api/blocks/${user}`),
  privacy: () => call<PrivacyResponse>('GET', '/api/me/privacy'),
  setPrivacy: (change: PrivacyRequest) => call<PrivacyResponse>('PUT', '/api/me/privacy', change),
  removePushSubscription: (endpoint: string) => call<void>('DELETE', '/api/push/subscriptions', { endpoint } satisfies PushUnsubscribeRequest),
};
