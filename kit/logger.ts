/**
 * Structured logs: one JSON line per event. Message bodies, cookies and tokens are never logged;
 * the redaction list is a second line of defence for objects that carry them by accident.
 */
import pino, { type Logger } from 'pino';

/** Creates the process logger at `level`. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { ...base, pid: process.pid },
    redact: { paths: ['*.body', '*.cookie', 'headers.cookie', '*.token', '*.password'], censor: '[redacted]' },
  });
}

export type { Logger };
