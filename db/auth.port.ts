/**
 * The ways into an account: passkeys (WebAuthn credentials) and identities at OAuth providers, and
 * the profile they sign in to. PostgreSQL/PGlite behind one implementation, auth.store.ts.
 */
import type { PublicUser } from '../protocol/frames.ts';
import type { PasskeyJson } from '../protocol/http.ts';

/** A user as the directory and the profile show it. */
export interface UserProfile extends PublicUser {
  /** An https URL, or null for none. */
  avatarUrl: string | null;
}

/** A passkey as verification needs it. */
export interface PasskeyRecord {
  /** The credential id, base64url. */
  id: string;
  userId: number;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
}

/** A passkey as its owner sees it in settings: the store reads it in the wire's shape. */
export type PasskeyInfo = PasskeyJson;

export interface NewPasskey {
  id: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
}

/** A provider's account, keyed by (provider, subject): never by e-mail. */
export interface NewIdentity {
  provider: string;
  subject: string;
  email: string | null;
  displayName: string | null;
}

export interface IdentityRecord extends NewIdentity {
  id: number;
  userId: number;
  createdAt: string;
}

/** Outcome of removing a way in: the last one is refused so nobody locks themselves out. */
export type RemoveOutcome = 'removed' | 'not_found' | 'last';

export interface AuthStore {
  /** A profile; a deleted account's is `{ id, handle: '', displayName: '', avatarUrl: null, deleted: true }`. */
  profile(userId: number): Promise<UserProfile | null>;
  /** The live account with that handle; never a deleted one. */
  profileByHandle(handle: string): Promise<UserProfile | null>;
  /** True when nobody may sign up with `handle`: a live account has it, or a deleted one within its grace (handle.hold.ts). */
  handleTaken(handle: string): Promise<boolean>;
  /** Changes the display name and/or avatar (null removes it); null when there is no such user. */
  updateProfile(userId: number, change: { displayName?: string; avatarUrl?: string | null }): Promise<UserProfile | null>;
  /** The user's WebAuthn user handle, set to `candidate` if the user has none yet. */
  webauthnId(userId: number, candidate: string): Promise<string>;
  /** Creates a user and its first passkey at once. Rejects with a HandleTakenError or a PasskeyTakenError (store.errors.ts). */
  createUserWithPasskey(user: { handle: string; displayName: string; webauthnId: string }, passkey: NewPasskey): Promise<UserProfile>;
  /** Creates a user and its first identity at once. Rejects with a HandleTakenError or an IdentityTakenError. */
  createUserWithIdentity(user: { handle: string; displayName: string; avatarUrl: string | null }, identity: NewIdentity): Promise<UserProfile>;
  getPasskey(id: string): Promise<PasskeyRecord | null>;
  listPasskeys(userId: number): Promise<PasskeyInfo[]>;
  /** Rejects with a PasskeyTakenError when the credential id is already stored (for anyone). */
  addPasskey(userId: number, passkey: NewPasskey): Promise<void>;
  /**
   * Stores a passkey's new signature counter and the time of use, only if it moved forward (or the
   * authenticator keeps no counter: both zero). False means a rollback: the key may be cloned.
   */
  advanceCounter(id: string, counter: number): Promise<boolean>;
  removePasskey(userId: number, id: string): Promise<RemoveOutcome>;
  /** Gives one of the user's passkeys a new name (already under the name rule); null when the user has no passkey with that id. */
  renamePasskey(userId: number, id: string, name: string): Promise<PasskeyInfo | null>;
  findIdentity(provider: string, subject: string): Promise<IdentityRecord | null>;
  /** Rejects with an IdentityTakenError when (provider, subject) belongs to someone. */
  linkIdentity(userId: number, identity: NewIdentity): Promise<void>;
  listIdentities(userId: number): Promise<IdentityRecord[]>;
  removeIdentity(userId: number, id: number): Promise<RemoveOutcome>;
}
