/**
 * The one error type the router shows clients. Its `code` is stable and listed in
 * protocol/errors.ts (and docs/errors.md); anything else becomes `internal` at the edge, so
 * internals never leak into a frame or a response.
 */
import { ERROR_CODES, type ErrorCode } from './errors.ts';

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;

  constructor(
    code: ErrorCode,
    message: string = ERROR_CODES[code].text,
  ) {
    super(message);
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

/** The AppError to show for any thrown value: itself, or `internal` for everything unexpected. */
export function toAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('internal');
}
