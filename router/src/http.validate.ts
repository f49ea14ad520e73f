/**
 * Validation at the HTTP edge: a zod schema turns an untrusted body or query into a typed value,
 * or an `invalid_request` that names the field (never echoes the value).
 */
import type { z } from 'zod';
import { AppError } from './app-error.ts';

/** The value parsed by `schema`; throws `invalid_request` naming the first bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'body';
  throw new AppError('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`);
}
