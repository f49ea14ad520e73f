/**
 * What deleting and exporting an account need from PostgreSQL/PGlite beyond the other ports: the
 * erasure of everything that says who the user was, in one transaction, and the e-mail settings
 * read without creating them. One implementation, account.store.ts.
 */

/** Outcome of erasing an account: done now, no such user, or done before (a second request). */
export type EraseOutcome = { kind: 'erased'; deletedAt: number } | { kind: 'not_found' } | { kind: 'already_deleted'; deletedAt: number };

export interface AccountStore {
  /**
   * Erases the account: display name and avatar, WebAuthn user handle, passkeys, linked OAuth
   * identities, push subscriptions, e-mail and notification settings, messages hidden for
   * themselves; marks the user deleted at `at` (ms). The row and its memberships stay (their
   * messages keep a sender, their 1:1 rooms two members); the handle stays held (handle.hold.ts).
   */
  erase(userId: number, at: number): Promise<EraseOutcome>;
  /** The user's digest e-mail settings as they are (none stored: no address, digests on); nothing is created. */
  emailSettings(userId: number): Promise<{ email: string | null; emailDigest: boolean }>;
}
