/**
 * The HTTP API's request and response bodies (docs/http-api.md), one type per route, shared by
 * router and app. The router checks every JSON answer against these with `satisfies`; the app's
 * `$lib/api.ts` types its calls with them, so a change on one side fails the other's typecheck.
 * Request bodies are the input side of the zod schemas the router validates them with.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import type { Attachment } from './frames.ts';
import type { z } from 'zod';
import type { UserProfileJson } from './auth.ts';
import type { accountDeleteBody, passkeyNameBody, passkeyRenameBody, profilePatchBody, signupOptionsBody } from './auth.schema.ts';
import type { ErrorCode } from './errors.ts';

export type { UserProfileJson };

/** Every error answer: a code from docs/errors.md and a human sentence. */
export interface ErrorResponse {
  error: { code: ErrorCode; message: string };
}

// Profile

/** `GET /api/me`. */
export interface MeResponse {
  user: UserProfileJson;
  /** When the session ends unless used again: epoch milliseconds. */
  session: { expiresAt: number };
}
/** `PATCH /api/me`. */
export type ProfilePatchRequest = z.input<typeof profilePatchBody>;
/** `PATCH /api/me`, passkey sign-up and sign-in verify, `GET /api/users?handle=`, `GET /api/users/:id`. */
/** `PUT`/`DELETE /api/groups/:room/avatar`: the group's photo as it now is. */
export interface GroupAvatarResponse {
  room: string;
  avatarUrl: string | null;
}

export interface UserResponse {
  user: UserProfileJson;
}

// Passkeys

/** `POST /api/passkeys/signup/options`. */
export type SignupOptionsRequest = z.input<typeof signupOptionsBody>;
/** `POST /api/passkeys/signup/options` and `POST /api/passkeys/options`: what `startRegistration` takes. */
export type CreationOptionsResponse = PublicKeyCredentialCreationOptionsJSON;
/** `POST /api/passkeys/signin/options`: what `startAuthentication` takes. */
export type RequestOptionsResponse = PublicKeyCredentialRequestOptionsJSON;
/** `POST /api/passkeys/signup/verify` and `POST /api/passkeys`: what `startRegistration` returns. */
export type RegistrationRequest = RegistrationResponseJSON;
/** `POST /api/passkeys/signin/verify`: what `startAuthentication` returns. */
export type AuthenticationRequest = AuthenticationResponseJSON;
/** `POST /api/passkeys/options`. */
export type PasskeyNameRequest = z.input<typeof passkeyNameBody>;

/** A passkey as its owner sees it in settings. */
export interface PasskeyJson {
  /** The credential id, base64url. */
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; null when never used to sign in. */
  lastUsedAt: string | null;
}
/** `GET /api/passkeys` and `POST /api/passkeys` (201). */
export interface PasskeysResponse {
  passkeys: PasskeyJson[];
}
/** `PATCH /api/passkeys/:id`. */
export type PasskeyRenameRequest = z.input<typeof passkeyRenameBody>;
/** `PATCH /api/passkeys/:id`: the passkey as stored. */
export interface PasskeyResponse {
  passkey: PasskeyJson;
}

// OAuth

/** A configured OAuth provider; `start` is the path that begins a sign-in with it. */
export interface ProviderJson {
  id: string;
  name: string;
  start: string;
}
/** `GET /api/auth/providers`. */
export interface ProvidersResponse {
  providers: ProviderJson[];
}

/** An account at an OAuth provider linked to the user. */
export interface IdentityJson {
  id: number;
  provider: string;
  email: string | null;
  displayName: string | null;
  /** ISO 8601. */
  createdAt: string;
}
/** `GET /api/identities`. */
export interface IdentitiesResponse {
  identities: IdentityJson[];
}

// Signing out

/** `POST /api/signout/everywhere`: how many sessions ended. */
export interface SignOutEverywhereResponse {
  ended: number;
}
/** `POST /api/signout/others`: how many sessions ended (every one but the caller's). */
export type SignOutOthersResponse = SignOutEverywhereResponse;

// Sessions

/** A live session of the user, as settings list it. */
export interface SessionJson {
  /** A public handle of the session (never its secret id): what `DELETE /api/sessions/:id` takes. */
  id: string;
  /** Browser and system from the User-Agent at sign-in ("Chrome on Android", "Firefox"); null when unrecognised. */
  device: string | null;
  /** How it was signed in: `passkey`, or an OAuth provider's id (`google`, `github`, …); null when unknown. */
  method: string | null;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; coarse: moves at most once a minute. */
  lastActiveAt: string;
  /** True for the session the request came with. */
  current: boolean;
}
/** `GET /api/sessions`: the current session first, then the others, most recently active first. */
export interface SessionsResponse {
  sessions: SessionJson[];
}

// The account: deleting it, exporting its data

/** `DELETE /api/me`: the caller's own handle, typed again to confirm. */
export type AccountDeleteRequest = z.input<typeof accountDeleteBody>;
/** `DELETE /api/me`: what the deletion did. */
export interface AccountDeleteResponse {
  /** Groups left, each by a `member.left` entry in its log (ownership handed on as a leave does). */
  groupsLeft: number;
  /** Sessions ended; every socket of the account, on every node, was closed with 4003. */
  sessionsEnded: number;
  /** ISO 8601: from then on someone else may sign up with the handle (DELETED_HANDLE_GRACE_MS). */
  handleFreeAt: string;
}

/**
 * `GET /api/me/export`: everything the messenger keeps about the caller, as one JSON document
 * (`Content-Disposition: attachment`), written as it is read: `messages` come last, room by room.
 */
export interface AccountExport {
  format: 'messenger.export.v1';
  /** ISO 8601. */
  exportedAt: string;
  profile: UserProfileJson & { email: string | null; emailDigest: boolean };
  /** Names and dates only: never a credential id or a key. */
  passkeys: Array<Pick<PasskeyJson, 'name' | 'deviceType' | 'backedUp' | 'createdAt' | 'lastUsedAt'>>;
  identities: Array<Pick<IdentityJson, 'provider' | 'email' | 'displayName' | 'createdAt'>>;
  /** Every room the caller is or was in. */
  rooms: ExportedRoom[];
  /** Every message the caller sent, by room (in `rooms` order), then seq. */
  messages: ExportedMessage[];
}

export interface ExportedRoom {
  id: string;
  kind: 'direct' | 'group';
  /** A group's name; null for a 1:1 room. */
  name: string | null;
  /** The seq from which the caller sees the room's log (0: from the start). */
  joinedSeq: number;
  /** The seq at which the caller left a group; null while a member. */
  leftSeq: number | null;
}

export interface ExportedMessage {
  room: string;
  seq: number;
  /** Epoch ms. */
  ts: number;
  /** The text as it is now (after edits); empty once deleted for everyone. */
  body: string;
  /** Epoch ms of the last edit. */
  editedAt?: number;
  deleted?: true;
  /** The seq of the message this one answers. */
  replyTo?: number;
  forwarded?: true;
}

// Notifications

/** `GET /api/push/vapid-public-key`: base64url, the `applicationServerKey` to subscribe with. */
export interface VapidKeyResponse {
  publicKey: string;
}
/** `POST /api/push/subscriptions`: `PushSubscription.toJSON()`. */
export interface PushSubscriptionRequest {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}
/** `POST /api/push/subscriptions` (201). */
export interface PushSubscriptionResponse {
  id: number;
}
/** `DELETE /api/push/subscriptions`. */
export interface PushUnsubscribeRequest {
  endpoint: string;
}
/** `PUT /api/notifications/email`: an address, or null to clear it. */
export interface EmailRequest {
  email: string | null;
}
/** `PUT /api/notifications/email`. */
export interface EmailResponse {
  email: string | null;
  emailDigest: boolean;
}

/** `PUT /api/rooms/:room/mute`: mute (or unmute) the push notifications of one room, for the caller only. */
export interface RoomMuteRequest {
  muted: boolean;
}
/** `PUT /api/rooms/:room/mute`. */
export interface RoomMuteResponse {
  room: string;
  muted: boolean;
}

/** `POST /api/rooms/:room/delivered` and `POST /api/rooms/:room/read`: up to which seq, cumulative. */
export interface ReceiptRequest {
  seq: number;
}
/** The caller's watermark in the room after the request (never lower than before). */
export interface ReceiptResponse {
  room: string;
  seq: number;
}

// Privacy and blocking

/** Who sees a user's online status and last seen: everyone sharing a room, contacts (1:1 chats only), nobody. */
export type LastSeenVisibility = 'everyone' | 'contacts' | 'nobody';
/** `GET /api/me/privacy`, and the answer of `PUT /api/me/privacy`. */
export interface PrivacySettings {
  lastSeen: LastSeenVisibility;
  /** Off: others see only "delivered" for this user, and this user sees nobody's read marks. */
  readReceipts: boolean;
}
/** `PUT /api/me/privacy`: any of the settings (at least one). */
export type PrivacyRequest = Partial<PrivacySettings>;
export type PrivacyResponse = PrivacySettings;
/** One user the caller blocked. */
export interface BlockJson {
  user: UserProfileJson;
  /** When the block was made, ISO 8601. */
  since: string;
}
/** `GET /api/blocks`: newest first. */
export interface BlocksResponse {
  blocks: BlockJson[];
}
/** `PUT /api/blocks/:user`. */
export type BlockResponse = BlockJson;

// Search

/**
 * `GET /api/search?q=…&room=…&cursor=…&limit=…`: the caller's messages matching every word of `q`
 * (the last word also as a prefix), newest first, in the rooms the caller is in (or `room` only), from
 * the seq they joined to the seq they left, never deleted ones or ones they deleted for themselves,
 * by their current (edited) text. `cursor` is `next` of the previous page of the same query.
 */
export interface SearchResponse {
  results: SearchHit[];
  /** Present when there may be more: pass it as `cursor` with the same `q` and `room`. */
  next?: string;
}

/** One message found. The snippet is plain text: `marks` are [start, end) offsets into it (UTF-16) of each match, never markup. */
export interface SearchHit {
  room: string;
  seq: number;
  sender: number;
  ts: number;
  snippet: { text: string; marks: Array<[number, number]> };
}

// Health

/** `GET /healthz`. */
export interface HealthResponse {
  status: 'ok';
  node: string;
}
/** `GET /readyz`: 200 when ready, 503 otherwise (draining, or the stores that did not answer). */
export type ReadyResponse = { status: 'ready' } | { status: 'draining' } | { status: 'unavailable'; stores: string[] };

/** `POST /api/uploads` (docs/http-api.md, "Attachments"): the stored upload, to reference from `message.send`. */
export interface UploadResponse {
  upload: Attachment;
}
