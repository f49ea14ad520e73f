/**
 * The zod schemas of the sign-in and directory HTTP API's request bodies (auth.ts has the shared
 * shapes); the router validates every body with them at the edge.
 */
import { z } from 'zod';
import { HANDLE_PATTERN } from './auth.ts';

export const handleSchema = z
  .string()
  .transform((h) => h.trim().toLowerCase())
  .pipe(z.string().regex(HANDLE_PATTERN, 'must be 3-32 characters of a-z, 0-9 and _'));

export const displayNameSchema = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'));

/** Avatars are https URLs (http only for localhost), or null to remove. */
export const avatarUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === 'localhost');
  }, 'must be an https URL')
  .nullable();

export const signupOptionsBody = z.strictObject({ handle: handleSchema, displayName: displayNameSchema });
export const passkeyNameBody = z.strictObject({ name: z.string().trim().min(1).max(64).optional() });
export const profilePatchBody = z
  .strictObject({ displayName: displayNameSchema.optional(), avatarUrl: avatarUrlSchema.optional() })
  .refine((b) => b.displayName !== undefined || b.avatarUrl !== undefined, 'nothing to change');

/** A WebAuthn response as @simplewebauthn/browser produces it; the library checks the details. */
export const webauthnResponseBody = z.object({
  id: z.string().min(1).max(1400),
  rawId: z.string().min(1).max(1400),
  type: z.literal('public-key'),
  response: z.object({ clientDataJSON: z.string().min(1).max(8192) }).passthrough(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().optional(),
}).passthrough();

/** A user as the directory shows it. */
