/**
 * The conflicts a store reports when a write would take something already held: one class each,
 * so callers tell them apart with `instanceof` (and the router maps each to its client code)
 * whichever implementation threw it.
 */

/** A user's handle (case-insensitive) is in use already. */
export class HandleTakenError extends Error {
  override readonly name = 'HandleTakenError';
  readonly handle: string;
  constructor(handle: string) {
    super(`handle ${handle} is taken`);
    this.handle = handle;
  }
}

/** A passkey's credential id is stored already, for this user or another. */
export class PasskeyTakenError extends Error {
  override readonly name = 'PasskeyTakenError';
  constructor() {
    super('this passkey is already registered to a user');
  }
}

/** A provider account (provider, subject) is linked to a user already. */
export class IdentityTakenError extends Error {
  override readonly name = 'IdentityTakenError';
  readonly provider: string;
  constructor(provider: string) {
    super(`this ${provider} account is already linked to a user`);
    this.provider = provider;
  }
}

/** True for a unique-constraint violation as PostgreSQL and PGlite report it (SQLSTATE 23505). */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown })?.code === '23505';
