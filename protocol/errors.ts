/**
 * Every error code the messenger can show a client, in one table. `docs/errors.md` is generated from
 * the same facts by hand and a test keeps the two in step, so a client author reads one list.
 *
 * `status` is the HTTP status when the error ends an HTTP request; WebSocket requests get an
 * `error` frame carrying `code` instead, and the socket stays open unless a close code is listed
 * in `CLOSE_CODES`.
 */
export const ERROR_CODES = {
  invalid_frame: { status: 400, text: 'the frame is not valid JSON or does not match the protocol' },
  unknown_type: { status: 400, text: 'the frame type is not part of this protocol version' },
  body_too_long: { status: 400, text: 'the message body is longer than the limit' },
  invalid_recipient: { status: 400, text: 'a message cannot be sent to its own sender' },
  user_not_found: { status: 404, text: 'no user has that id' },
  room_not_found: { status: 404, text: 'no such room, or you are not a member of it' },
  conflict: { status: 409, text: 'this clientMsgId was already used for a different message' },
  rate_limited: { status: 429, text: 'too many frames; slow down and retry later' },
  unauthenticated: { status: 401, text: 'no valid session' },
  forbidden_origin: { status: 403, text: 'the Origin header is not allowed' },
  bad_subprotocol: { status: 400, text: 'the WebSocket subprotocol is missing or not supported' },
  not_found: { status: 404, text: 'no such resource' },
  invalid_request: { status: 400, text: 'the request body or parameters are not valid' },
  payload_too_large: { status: 413, text: 'the request body is too large' },
  handle_taken: { status: 409, text: 'that handle is taken' },
  challenge_expired: { status: 400, text: 'the sign-in attempt is unknown, used or expired; start again' },
  passkey_rejected: { status: 400, text: 'the passkey response did not verify' },
  passkey_not_found: { status: 404, text: 'no such passkey' },
  session_not_found: { status: 404, text: 'no such session of yours; it may have ended already' },
  oauth_failed: { status: 400, text: 'the sign-in with the provider failed; start again' },
  provider_not_configured: { status: 404, text: 'that sign-in provider is not configured' },
  identity_taken: { status: 409, text: 'that provider account is already linked to another user' },
  passkey_taken: { status: 409, text: 'that passkey is already registered' },
  last_credential: { status: 409, text: 'this is the last way to sign in to the account' },
  too_many_attempts: { status: 429, text: 'too many sign-up or sign-in attempts from this address; retry later' },
  invalid_push_endpoint: { status: 400, text: 'the push endpoint is not an https URL of a public push service' },
  too_many_subscriptions: { status: 409, text: 'this account has too many push subscriptions; remove one first' },
  push_not_configured: { status: 503, text: 'push notifications are not configured on this server' },
  unavailable: { status: 503, text: 'a store is unavailable; retry later' },
  internal: { status: 500, text: 'internal error' },
  unsupported_media_type: { status: 415, text: 'the request body must be application/json' },
  message_rejected: { status: 422, text: 'the message cannot be stored; do not retry it' },
  wrong_room_kind: { status: 400, text: 'that request is for the other kind of room (group or 1:1)' },
  not_admin: { status: 403, text: 'only the owner or an admin of the group may do this' },
  not_owner: { status: 403, text: 'only the owner of the group may do this' },
  owner_protected: { status: 403, text: 'the owner cannot be removed or demoted; the owner hands over by leaving' },
  member_not_found: { status: 404, text: 'that user is not a member of the group' },
  already_member: { status: 409, text: 'that user is already a member of the group' },
  duplicate_member: { status: 400, text: 'a user is listed twice, or the sender lists themselves' },
  too_many_members: { status: 409, text: 'the group would have more members than the limit' },
  too_many_groups: { status: 409, text: 'a user would be in more groups than the limit' },
  message_not_found: { status: 404, text: 'no message with that seq in this room that you can see' },
  not_sender: { status: 403, text: 'only the sender may do this to the message' },
  not_editable: { status: 409, text: 'only your own text messages can be edited, not a forwarded one' },
  edit_window_closed: { status: 409, text: 'the message is too old to edit' },
  message_deleted: { status: 409, text: 'the message was deleted' },
  invalid_reaction: { status: 400, text: 'that emoji is not one of the reactions this server offers' },
  too_many_reactions: { status: 409, text: 'you already have the most reactions allowed on this message' },
  invalid_query: { status: 400, text: 'the search query is empty, too long or has no word to search for' },
  invalid_cursor: { status: 400, text: 'the paging cursor is not one this search returned' },
  file_too_large: { status: 413, text: 'the file is larger than the upload limit' },
  file_empty: { status: 400, text: 'the uploaded file is empty' },
  upload_truncated: { status: 400, text: 'the upload ended before all of its bytes arrived' },
  invalid_file_name: { status: 400, text: 'the file name is missing, too long, names a path or has control or bidi-override characters' },
  upload_quota_exceeded: { status: 409, text: 'your uploads would hold more than your quota' },
  too_many_uploads: { status: 429, text: 'too many uploads of yours are under way at once' },
  image_too_large: { status: 422, text: 'the image has more pixels than the limit' },
  not_an_image: { status: 415, text: 'an avatar must be an image: JPEG, PNG, WebP, GIF or AVIF' },
  image_unreadable: { status: 422, text: 'the image cannot be decoded' },
  attachment_not_found: { status: 404, text: 'no upload of yours with that id that another message does not already carry' },
  account_deleted: { status: 410, text: 'this account was deleted' },
  confirmation_mismatch: { status: 400, text: 'the handle typed to confirm is not the account\'s handle' },
  export_busy: { status: 429, text: 'an export of this account is running, or too many were made lately; retry later' },
  cannot_block_self: { status: 400, text: 'you cannot block yourself' },
} as const satisfies Record<string, { status: number; text: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * WebSocket close codes the server uses. 1xxx are the standard ones (RFC 6455), 4xxx are ours.
 * A heartbeat timeout terminates the TCP connection without a close frame, so clients see 1006.
 * One code may have several reasons (1008: flooding, or too many fragments): a client handles every
 * reason of a code alike. Closes the ws library makes by itself (1007, 1008 for fragments, 1009)
 * carry no reason text; the server's own carry the text below.
 */
export const CLOSE_CODES = {
  normal: { code: 1000, text: 'normal closure' },
  unsupported_data: { code: 1003, text: 'a binary frame was sent; the protocol is JSON text only' },
  policy_violation: { code: 1008, text: 'the client kept flooding after being rate limited' },
  too_many_fragments: { code: 1008, text: 'a message arrived in more fragments than the limit' },
  message_too_big: { code: 1009, text: 'a frame was larger than the maximum payload' },
  internal_error: { code: 1011, text: 'the connection actor crashed; reconnect and resync' },
  service_restart: { code: 1012, text: 'the server is shutting down; reconnect (to another node) and resync' },
  session_ended: { code: 4001, text: 'the session was signed out or expired' },
  account_deleted: { code: 4003, text: 'the account was deleted' },
  slow_consumer: { code: 4008, text: 'the client did not read and its send buffer passed the limit' },
} as const satisfies Record<string, { code: number; text: string }>;

export type CloseReason = keyof typeof CLOSE_CODES;
