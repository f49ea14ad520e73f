/**
 * Passkeys (WebAuthn, @simplewebauthn/server): sign-up with a new discoverable credential, sign-in
 * without a handle, and adding more passkeys to an account. Each challenge is 256 random bits kept
 * server-side (the attempt store, keyed by the challenge itself) for AUTH_ATTEMPT_TTL_MS and taken
 * at the first verify, whatever its outcome. Origin and RP ID must match the configuration exactly
 * and user verification is required. The signature counter must move forward: a stale one means a
 * cloned authenticator and is refused.
 */
import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Logger } from 'pino';
import type { AttemptStore } from '../../../db/attempt.port.ts';
import type { AuthStore, PasskeyInfo, UserProfile } from '../../../db/auth.port.ts';
import { HandleTakenError, PasskeyTakenError } from '../../../db/store.errors.ts';
import { AppError } from '../../../protocol/app-error.ts';
import type { Config } from '../config.ts';
import { passkeyName } from './passkey.aaguid.ts';

export interface PasskeyServiceDeps {
  auth: AuthStore;
  /** Where challenges wait for their verify. */
  attempts: AttemptStore;
  config: Pick<Config, 'rpId' | 'rpName' | 'allowedOrigins' | 'authAttemptTtlMs'>;
  log: Logger;
}

/** ES256, EdDSA, RS256: what platform authenticators and security keys actually use. */
const ALGORITHMS = [-7, -8, -257];
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

type Attempt =
  | { purpose: 'signup'; handle: string; displayName: string; webauthnId: string }
  | { purpose: 'signin' }
  | { purpose: 'add'; userId: number; name: string | undefined };

export class PasskeyService {
  private readonly deps: PasskeyServiceDeps;

  constructor(deps: PasskeyServiceDeps) {
    this.deps = deps;
  }

  /** Creation options for a new account; `handle_taken` if the handle is in use already. */
  async signupOptions(handle: string, displayName: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    if (await this.deps.auth.handleTaken(handle)) throw new AppError('handle_taken');
    const webauthnId = randomBytes(32).toString('base64url');
    return this.#creationOptions({ purpose: 'signup', handle, displayName, webauthnId }, handle, displayName, webauthnId, []);
  }

  /** Verifies a sign-up response (sent by `userAgent`, which may name the passkey) and creates the user with that passkey. */
  async signupVerify(response: RegistrationResponseJSON, userAgent: string | undefined): Promise<UserProfile> {
    const { attempt, challenge } = await this.#take(response);
    if (attempt.purpose !== 'signup') throw new AppError('passkey_rejected');
    const passkey = await this.#verifyRegistration(response, challenge, undefined, userAgent);
    try {
      return await this.deps.auth.createUserWithPasskey(attempt, passkey);
    } catch (err) {
      throw mapTaken(err);
    }
  }

  /** Request options for signing in with any discoverable passkey of this site. */
  async signinOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = randomBytes(32);
    const options = await generateAuthenticationOptions({
      rpID: this.deps.config.rpId,
      challenge,
      userVerification: 'required',
      timeout: this.deps.config.authAttemptTtlMs,
    });
    await this.#put(options.challenge, { purpose: 'signin' });
    return options;
  }

  /** Verifies a sign-in response; the user it signs in. */
  async signinVerify(response: AuthenticationResponseJSON): Promise<number> {
    const { attempt, challenge } = await this.#take(response);
    if (attempt.purpose !== 'signin' || response.id !== response.rawId) throw new AppError('passkey_rejected');
    const stored = await this.deps.auth.getPasskey(response.id);
    if (!stored) throw new AppError('passkey_rejected');
    // A discoverable credential returns the user handle it was created with; it must be its owner's.
    if (response.response.userHandle !== undefined) {
      const owner = await this.deps.auth.webauthnId(stored.userId, randomBytes(32).toString('base64url'));
      if (response.response.userHandle !== owner) throw new AppError('passkey_rejected');
    }
    let newCounter: number;
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: [...this.deps.config.allowedOrigins],
        expectedRPID: this.deps.config.rpId,
        credential: { id: stored.id, publicKey: stored.publicKey, counter: stored.counter, transports: stored.transports },
        requireUserVerification: true,
      });
      if (!result.verified) throw new Error('not verified');
      newCounter = result.authenticationInfo.newCounter;
    } catch (err) {
      this.deps.log.info({ err: String(err) }, 'passkey sign-in refused');
      throw new AppError('passkey_rejected');
    }
    // Conditional write: two concurrent uses of one counter value cannot both pass.
    if (!(await this.deps.auth.advanceCounter(stored.id, newCounter))) throw new AppError('passkey_rejected');
    return stored.userId;
  }

  /** Creation options for another passkey of a signed-in user (its existing ones excluded). */
  async addOptions(user: UserProfile, name: string | undefined): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const webauthnId = await this.deps.auth.webauthnId(user.id, randomBytes(32).toString('base64url'));
    const existing = await this.deps.auth.listPasskeys(user.id);
    return this.#creationOptions({ purpose: 'add', userId: user.id, name }, user.handle, user.displayName, webauthnId, existing.map((p) => p.id));
  }

  /** Verifies an add response of the same user (sent by `userAgent`) and stores the passkey. */
  async addVerify(userId: number, response: RegistrationResponseJSON, userAgent: string | undefined): Promise<PasskeyInfo[]> {
    const { attempt, challenge } = await this.#take(response);
    if (attempt.purpose !== 'add' || attempt.userId !== userId) throw new AppError('passkey_rejected');
    const passkey = await this.#verifyRegistration(response, challenge, attempt.name, userAgent);
    try {
      await this.deps.auth.addPasskey(userId, passkey);
    } catch (err) {
      throw mapTaken(err);
    }
    return this.deps.auth.listPasskeys(userId);
  }

  async #creationOptions(attempt: Attempt, userName: string, displayName: string, webauthnId: string, exclude: string[]) {
    const options = await generateRegistrationOptions({
      rpName: this.deps.config.rpName,
      rpID: this.deps.config.rpId,
      userName,
      userDisplayName: displayName,
      userID: Buffer.from(webauthnId, 'base64url'),
      challenge: randomBytes(32),
      timeout: this.deps.config.authAttemptTtlMs,
      attestationType: 'none',
      excludeCredentials: exclude.map((id) => ({ id })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    await this.#put(options.challenge, attempt);
    return options;
  }

  /** The verified credential, named `name`, else after its authenticator or the device (passkey.aaguid.ts). */
  async #verifyRegistration(response: RegistrationResponseJSON, challenge: string, name: string | undefined, userAgent: string | undefined) {
    try {
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: [...this.deps.config.allowedOrigins],
        expectedRPID: this.deps.config.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!result.verified) throw new Error('not verified');
      const { credential, credentialDeviceType, credentialBackedUp, aaguid } = result.registrationInfo;
      return {
        id: credential.id,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: credential.transports ?? response.response.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name: passkeyName(name, aaguid, userAgent),
      };
    } catch (err) {
      this.deps.log.info({ err: String(err) }, 'passkey registration refused');
      throw new AppError('passkey_rejected');
    }
  }

  async #put(challenge: string, attempt: Attempt): Promise<void> {
    await this.deps.attempts.put(`passkey:${challenge}`, attempt, this.deps.config.authAttemptTtlMs);
  }

  /** The attempt of the response's challenge, consumed: a second verify with it finds nothing. */
  async #take(response: { response: { clientDataJSON: string } }): Promise<{ attempt: Attempt; challenge: string }> {
    let challenge: unknown;
    try {
      challenge = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'))?.challenge;
    } catch {
      throw new AppError('passkey_rejected');
    }
    if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) throw new AppError('passkey_rejected');
    const attempt = await this.deps.attempts.take<Attempt>(`passkey:${challenge}`);
    if (!attempt) throw new AppError('challenge_expired');
    return { attempt, challenge };
  }
}

/** Store conflicts to their stable codes. */
export function mapTaken(err: unknown): unknown {
  if (err instanceof HandleTakenError) return new AppError('handle_taken');
  if (err instanceof PasskeyTakenError) return new AppError('passkey_taken');
  return err;
}
