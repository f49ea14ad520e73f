/**
 * A software WebAuthn authenticator (ES256, "none" attestation) for tests that need to craft
 * responses a browser would refuse to make: wrong origins, stale counters, someone else's
 * credential. Real crypto and real CBOR, verified by the real @simplewebauthn/server; the happy
 * path also runs in Chromium's virtual authenticator (router/test/passkey.browser.test.ts).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}
export interface RequestOptions {
  challenge: string;
  rpId?: string;
}

export interface Overrides {
  origin?: string;
  rpId?: string;
  /** Flags byte; default user present + verified. */
  flags?: number;
  /** Signature counter to report (assertions); default: the next one. */
  counter?: number;
  userHandle?: string;
  challenge?: string;
}

/** One discoverable credential. */
export class SoftCredential {
  readonly id = randomBytes(16);
  readonly privateKey: KeyObject;
  readonly publicJwk: { x: string; y: string };
  counter = 0;
  userHandle = '';

  readonly origin: string;
  /** The authenticator model's AAGUID, 16 bytes; all zero (none) by default. */
  readonly aaguid: Buffer;

  /** `aaguid`: a UUID naming the authenticator model ("fbfc3007-…"); default none. */
  constructor(origin: string, options: { aaguid?: string } = {}) {
    this.origin = origin;
    this.aaguid = options.aaguid ? Buffer.from(options.aaguid.replaceAll('-', ''), 'hex') : Buffer.alloc(16);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  get idB64(): string {
    return b64u(this.id);
  }

  /** A registration response to `options`, as navigator.credentials.create + @simplewebauthn/browser make it. */
  attest(options: CreationOptions, o: Overrides = {}) {
    this.userHandle = options.user.id;
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: o.challenge ?? options.challenge, origin: o.origin ?? this.origin, crossOrigin: false });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(this.publicJwk.x, 'base64url')],
        [-3, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.id.length);
    const authData = Buffer.concat([
      sha256(o.rpId ?? options.rp.id ?? 'localhost'),
      Buffer.from([o.flags ?? 0x45]), // UP | UV | AT
      counterBytes(this.counter),
      this.aaguid,
      idLen,
      this.id,
      Buffer.from(cose),
    ]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    return {
      id: this.idB64,
      rawId: this.idB64,
      type: 'public-key' as const,
      response: { clientDataJSON: b64u(Buffer.from(clientData)), attestationObject: b64u(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** An authentication response to `options`; the counter moves forward unless overridden. */
  assert(options: RequestOptions, o: Overrides = {}) {
    const counter = o.counter ?? ++this.counter;
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: o.challenge ?? options.challenge, origin: o.origin ?? this.origin, crossOrigin: false }));
    const authData = Buffer.concat([sha256(o.rpId ?? options.rpId ?? 'localhost'), Buffer.from([o.flags ?? 0x05]), counterBytes(counter)]);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return {
      id: this.idB64,
      rawId: this.idB64,
      type: 'public-key' as const,
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature), userHandle: o.userHandle ?? this.userHandle },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}

function counterBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
