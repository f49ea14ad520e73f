/**
 * The text rule (text.ts) as zod schemas, for the frame and request-body schemas the router
 * validates at its edge. A refusal is a `custom` issue whose message says what is wrong, never
 * what the value was; the edge prefixes the field's path ("body: contains a control character").
 */
import { z } from 'zod';
import { GROUP_NAME_MAX_LENGTH, NAME_MAX_LENGTH, normaliseName, textProblem, type TextKind } from './text.ts';

/** A string that passes the text rule of `kind`, unchanged. Chain `.min()`/`.max()` for its length. */
export function textSchema(kind: TextKind) {
  return z.string().superRefine((value, ctx) => {
    const problem = textProblem(value, kind);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A display name or passkey name: the name rule, stored normalised (trimmed, NFC), at most 64 code units. */
export const nameSchema = textSchema('name')
  .transform(normaliseName)
  .pipe(z.string().max(NAME_MAX_LENGTH, `must be at most ${NAME_MAX_LENGTH} characters`));

/** A group's name: the name rule (one line, no bidi overrides, NFC, trimmed), 1-128 code units after that. */
export const groupNameSchema = textSchema('name')
  .transform(normaliseName)
  .pipe(z.string().min(1).max(GROUP_NAME_MAX_LENGTH, `must be at most ${GROUP_NAME_MAX_LENGTH} characters`));
