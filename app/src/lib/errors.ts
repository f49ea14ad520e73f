/**
 * Every error code of protocol/errors.ts as a sentence for a person. The server's own texts are
 * for developers ("this is the last way to sign in to the account"); the app shows these instead.
 * A `Record` over `ErrorCode`, so a new code without a sentence fails the typecheck, and
 * app/test/errors.test.ts checks the sentences read as sentences.
 */
import { LIMITS } from '../../../protocol/limits.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';

export const SENTENCES: Record<ErrorCode, string> = {
  invalid_frame: 'The app sent something the server did not understand. Reload the page and try again.',
  unknown_type: 'This version of the app is out of date. Reload the page to update it.',
  body_too_long: `That message is too long. Split it into messages of at most ${LIMITS.maxBodyLength} characters.`,
  invalid_recipient: 'You cannot send a message to yourself here.',
  user_not_found: 'That person does not exist any more.',
  room_not_found: 'This chat does not exist, or you are no longer in it.',
  conflict: 'That message clashed with another one. Send it again.',
  rate_limited: 'You are going a little fast. Wait a moment and try again.',
  unauthenticated: 'You are signed out. Sign in again.',
  forbidden_origin: 'This page is not allowed to talk to the server. Open the app from its own address.',
  bad_subprotocol: 'This version of the app is out of date. Reload the page to update it.',
  not_found: 'That was not found.',
  invalid_request: 'The app sent something the server did not understand. Reload the page and try again.',
  payload_too_large: 'That is too large to send.',
  handle_taken: 'That handle is taken. Try another one.',
  challenge_expired: 'That took too long. Please try again.',
  passkey_rejected: 'The passkey was not accepted. Try again, or use another passkey.',
  passkey_not_found: 'That passkey was already removed.',
  session_not_found: 'That session has already ended.',
  oauth_failed: 'Signing in with that provider did not work. Please try again.',
  provider_not_configured: 'That way of signing in is not available on this server.',
  identity_taken: 'That account is already linked to another user. Sign in with it instead.',
  passkey_taken: 'This passkey is already registered. Sign in with it instead.',
  last_credential: 'This is your only way to sign in. Add another passkey or account first.',
  too_many_attempts: 'Too many attempts from this network. Wait a while and try again.',
  invalid_push_endpoint: 'This browser’s notification service cannot be used. Try another browser.',
  too_many_subscriptions: 'Notifications are on for too many devices. Turn them off on one you no longer use.',
  push_not_configured: 'This server does not send notifications.',
  unavailable: 'The server is busy or partly down. Try again in a moment.',
  internal: 'Something went wrong on the server. Try again in a moment.',
  unsupported_media_type: 'The app sent something the server did not understand. Reload the page and try again.',
  message_rejected: 'That message cannot be sent. Change it and try again.',
  wrong_room_kind: 'That works only in a group.',
  not_admin: 'Only the owner or an admin can do that.',
  not_owner: 'Only the owner can do that.',
  owner_protected: 'The owner cannot be removed or demoted.',
  member_not_found: 'That person is no longer a member.',
  already_member: 'That person is already a member.',
  duplicate_member: 'Someone was picked twice.',
  too_many_members: 'The group is full.',
  too_many_groups: 'Someone is in too many groups already.',
  message_not_found: 'That message is no longer there.',
  not_sender: 'Only the sender can do that to this message.',
  not_editable: 'Only your own messages can be edited, not forwarded ones.',
  edit_window_closed: 'This message is too old to edit.',
  message_deleted: 'That message was deleted.',
  invalid_reaction: 'That reaction is not available.',
  too_many_reactions: `You can put at most ${LIMITS.reactionsPerUserMax} reactions on a message. Take one off first.`,
  invalid_query: 'Type a word to search for.',
  invalid_cursor: 'The results changed. Search again.',
  file_too_large: 'That file is too large to send.',
  file_empty: 'That file is empty.',
  upload_truncated: 'The upload was cut off. Try again.',
  invalid_file_name: 'That file name cannot be used. Rename the file and try again.',
  upload_quota_exceeded: 'You have used all the space for your files.',
  too_many_uploads: 'Too many files are uploading at once. Wait for one to finish.',
  image_too_large: 'That picture is too large.',
  not_an_image: 'A profile photo must be a picture (JPEG, PNG, WebP, GIF or AVIF).',
  image_unreadable: 'That picture is damaged and cannot be sent.',
  attachment_not_found: 'A file of that message is gone. Attach it again.',
  account_deleted: 'This account was deleted. Sign in with another account or make a new one.',
  confirmation_mismatch: 'That is not your handle. Type it exactly as it is shown to delete your account.',
  export_busy: 'An export of your data is already under way, or you made several lately. Try again in a few minutes.',
  cannot_block_self: 'You cannot block yourself.',
};

/** The sentence for `code`; a code this app does not know (a newer server) gets a general one. */
export function sentenceFor(code: string): string {
  return (SENTENCES as Record<string, string>)[code] ?? 'Something went wrong. Please try again.';
}

/**
 * What to tell a person about a failure: the sentence of an API or protocol error, a sentence for
 * the browser's passkey errors (which arrive in the browser's words, "The authenticator was
 * previously registered"), and a general one for anything else. Never a raw message.
 */
export function explain(err: unknown): string {
  if (!(err instanceof Error)) return 'Something went wrong. Please try again.';
  // The browser's WebAuthn errors by name (SimpleWebAuthn keeps the name and adds a code of its own).
  if (err.name === 'NotAllowedError' || err.name === 'AbortError') return 'The passkey prompt was cancelled or timed out.';
  if (err.name === 'InvalidStateError') return 'This device already holds a passkey for this account. Use another device or password manager.';
  if (err.name === 'SecurityError') return 'Passkeys do not work on this address. Open the app from its own address.';
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  if (code === 'network') return 'You are offline or the server cannot be reached. Try again once connected.';
  return code !== undefined && code in SENTENCES ? sentenceFor(code) : 'Something went wrong. Please try again.';
}
