/**
 * The protocol's version and the hard limits both sides respect. Apart from frames.ts so the zod
 * schemas (frames.schema.ts) can read the limits without importing the frame types that name them.
 */
export const PROTOCOL_VERSION = 1;
export const SUBPROTOCOL = `messenger.v${PROTOCOL_VERSION}`;

/** Hard limits a client must respect; the server also announces them in `hello`. */
export const LIMITS = {
  /** Longest message body, in UTF-16 code units (what JavaScript's `length` counts). */
  maxBodyLength: 4096,
  /** Largest WebSocket frame the server reads, in bytes; a larger one closes with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Most messages in one history page; larger requests are clamped. */
  historyPageMax: 100,
  /** Most rooms in one `sync` request. */
  syncRoomsMax: 1000,
  /**
   * Most fragments one message may arrive in; more closes with 1008. Browsers never fragment; the
   * limit keeps a message of tiny (or empty) fragments from costing more than the frame limit.
   */
  maxFragments: 1024,
  /** Most user ids in one `group.create` or `group.add`; a larger group is built with several `group.add`. */
  groupUsersPerFrame: 1000,
  /** Most distinct reactions one user may have on one message. */
  reactionsPerUserMax: 3,
  /** Longest preview of the original a reply carries, in UTF-16 code units. */
  replyPreviewLength: 100,
  /** Most "deleted for me" seqs per room `sync.done` lists (the newest). */
  hiddenPerRoomMax: 1000,
  /** Longest search query, in UTF-16 code units (`GET /api/search`). */
  searchQueryMax: 256,
  /** Most results in one search page. */
  searchPageMax: 50,
  /** Most attachments one message may carry. */
  attachmentsMax: 10,
} as const;

/**
 * The emoji a reaction may be, in the order the app offers them (docs/protocol.md, "Message
 * actions"); the server refuses any other. A user may have up to `LIMITS.reactionsPerUserMax` of
 * them on one message.
 */
export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🔥', '👎'] as const;
export type Reaction = (typeof REACTIONS)[number];
