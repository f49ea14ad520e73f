/**
 * The shapes of the sign-in and directory HTTP API (docs/http-api.md), shared by router and app.
 * The zod schemas the router validates bodies with are in auth.schema.ts.
 */

/** Handles: 3–32 of a-z, 0-9 and _, compared case-insensitively (stored lower-case). */
export const HANDLE_PATTERN = /^[a-z0-9_]{3,32}$/;

export interface UserProfileJson {
  id: number;
  handle: string;
  displayName: string;
  avatarUrl: string | null;
  /** Set when the account was deleted (handle and name empty, no avatar). */
  deleted?: true;
}
