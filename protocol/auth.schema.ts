/**
 * The zod schemas of the sign-in and directory HTTP API's request bodies (auth.ts has the shared
 * shapes); the router validates every body with them at the edge.
 */
import { z } from 'zod';
import { HANDLE_PATTERN } from './auth.ts';
import { normaliseHandle } from './text.ts';
import { nameSchema, textSchema } from './text.schema.ts';

/** A handle: the text rule, then NFKC, trimmed and lower-cased (text.ts says why), then the pattern. */
export const handleSchema = textSchema('plain')
  .transform(normaliseHandle)
  .pipe(z.string().regex(HANDLE_PATTERN, 'must be 3-32 characters of a-z, 0-9 and _'));

export const displayNameSchema = nameSchema;

/** Avatars are https URLs (http only for localhost), or null to remove. */
export const avatarUrlSchema = textSchema('plain')
  .max(2048)
  .url()
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === 'localhost');
  }, 'must be an https URL')
  .nullable();

export const signupOptionsBody = z.strictObject({ handle: handleSchema, displayName: displayNameSchema });
/** `DELETE /api/me`: the caller types their own handle again, so no stray click deletes an account. */
export const accountDeleteBody = z.strictObject({ handle: handleSchema });
export const passkeyNameBody = z.strictObject({ name: nameSchema.optional() });
/** `PATCH /api/passkeys/:id`: the passkey's new name, under the name rule. */
export const passkeyRenameBody = z.strictObject({ name: nameSchema });
/** A session's public handle in a path (`SessionJson.id`): 22 base64url characters. */
export const sessionIdParam = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be a session id from GET /api/sessions') });
/** A passkey's id in a path (polka has percent-decoded it): a credential id, under the text rule. */
export const passkeyIdParam = z.object({ id: textSchema('plain').min(1).max(1400) });
export const profilePatchBody = z
  .strictObject({ displayName: displayNameSchema.optional(), avatarUrl: avatarUrlSchema.optional() })
  .refine((b) => b.displayName !== undefined || b.avatarUrl !== undefined, 'nothing to change');

/** A WebAuthn response as @simplewebauthn/browser produces it; the library checks the details. */
export const webauthnResponseBody = z.object({
  // The id is a key the stores look up, and transports are stored: both follow the text rule.
  id: textSchema('plain').min(1).max(1400),
  rawId: textSchema('plain').min(1).max(1400),
  type: z.literal('public-key'),
  response: z
    .object({ clientDataJSON: z.string().min(1).max(8192), transports: z.array(textSchema('plain').max(32)).max(16).optional() })
    .passthrough(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().optional(),
}).passthrough();

/** A user as the directory shows it. */
