/**
 * Validation at the HTTP edge: a zod schema turns an untrusted body or query into a typed value,
 * or an `invalid_request` that names the field (never echoes the value).
 */
import type { z } from 'zod';
import { AppError } from '../../../protocol/app-error.ts';

/** The value parsed by `schema`; throws `invalid_request` naming the first bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'body';
  throw new AppError('invalid_request', `${field}: ${issue ? describe(issue) : 'invalid'}`);
}

/**
 * zod's message (ours for the text rule), except for unknown keys: zod quotes them, and they are
 * the client's own text, so they are named only when they are plain identifiers.
 */
function describe(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  return issue.keys.every((k) => /^[A-Za-z0-9_]{1,64}$/.test(k)) ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}` : 'unknown field';
}
