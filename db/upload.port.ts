/**
 * Uploads: the rows that bind an attachment's bytes (in the blob store) to the user who uploaded
 * them and, once a message references them, to that message (migration 011). The knex adapter
 * (upload.store.ts) runs on PostgreSQL and PGlite, whichever store keeps history; its contract is
 * db/test/upload.test.ts.
 */
import type { Attachment } from '../protocol/frames.ts';

/** A new upload, its bytes already in the blob store. */
export interface NewUpload {
  /** A UUID. */
  id: string;
  owner: number;
  blobKey: string;
  /** An image's thumbnail; null for other files. */
  thumbKey: string | null;
  name: string;
  /** The sniffed media type. */
  type: string;
  /** The sniffed type's extension; null when the bytes are of no known type. */
  ext: string | null;
  size: number;
  sha256: string;
  width?: number;
  height?: number;
  placeholder?: string;
  /** ms. */
  createdAt: number;
}

/** The message that claimed an upload: set before its append, `seq` once stored. */
export interface UploadClaim {
  room: string;
  /** The sender's clientMsgId: a retry of the message claims the same uploads again. */
  clientMsgId: string;
  /** ms. */
  at: number;
  seq: number | null;
}

export interface UploadRecord extends NewUpload {
  claim: UploadClaim | null;
}

/** What a message shows of an upload. */
export function attachmentOf(u: NewUpload): Attachment {
  const a: Attachment = { id: u.id, name: u.name, type: u.type, size: u.size };
  if (u.width !== undefined && u.height !== undefined) {
    a.width = u.width;
    a.height = u.height;
  }
  if (u.placeholder !== undefined) a.placeholder = u.placeholder;
  return a;
}

export interface UploadStore {
  /**
   * Records an upload if the owner's uploads, with it, stay within `quotaBytes`; false (nothing
   * recorded) when they would not.
   */
  create(upload: NewUpload, quotaBytes: number): Promise<boolean>;
  get(id: string): Promise<UploadRecord | null>;
  /** Bytes the owner's uploads hold, claimed or not. */
  bytesOf(owner: number): Promise<number>;
  /**
   * Claims the uploads `ids` for the message (room, clientMsgId) of `owner`, all or none: each must
   * be the owner's, and unclaimed or claimed by that same message (a retry). Returns them in the
   * order of `ids`, or null when any is not (nothing changed).
   */
  claim(owner: number, ids: readonly string[], claim: Omit<UploadClaim, 'seq'>): Promise<UploadRecord[] | null>;
  /** Gives back uploads the message (room, clientMsgId) claimed but could not be stored with. */
  release(ids: readonly string[], room: string, clientMsgId: string): Promise<void>;
  /** The message (room, clientMsgId) was stored at `seq`: its uploads are now visible through it. */
  settle(ids: readonly string[], room: string, clientMsgId: string, seq: number): Promise<void>;
  /** The uploads a stored message carries. */
  ofMessage(room: string, seq: number): Promise<UploadRecord[]>;
  /** Uploads unclaimed since before `cutoff` (ms), or claimed before it by a message never stored; at most `limit`. */
  unsettledBefore(cutoff: number, limit: number): Promise<UploadRecord[]>;
  /** Removes the rows (the caller deletes the blobs first). */
  remove(ids: readonly string[]): Promise<void>;
}
