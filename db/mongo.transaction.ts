/**
 * A MongoDB transaction with a time budget. The driver's `withTransaction` retries transient errors
 * and unknown commit results for up to 120 s (its `timeoutMS` has no effect in driver 7): through an
 * election or a flapping network, one append could hold a slot of the group commit that long while clients
 * wait for an ack. This runs the same retry rules (the transactions specification's), but starts
 * no attempt and retries no commit once `budgetMs` has passed; the last error then propagates as
 * the driver raised it, code, codeName and labels intact.
 */
import { type ClientSession, MongoError, MongoErrorLabel, type TransactionOptions } from 'mongodb';

/** The part of a session this needs (tests pass a fake). */
export type TransactionSession = Pick<ClientSession, 'startTransaction' | 'commitTransaction' | 'abortTransaction' | 'inTransaction'>;

export interface TransactionRun {
  /** Options of every attempt (read and write concern, read preference, maxCommitTimeMS). */
  transaction: TransactionOptions;
  /** No attempt starts and no commit is retried after this long, ms. */
  budgetMs: number;
  /** A monotonic clock in ms. Default performance.now. */
  now?: () => number;
  /** Waits between attempts. Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_TIME_EXPIRED = 50;
const BACKOFF_INITIAL_MS = 5;
const BACKOFF_MAX_MS = 500;

/** Runs `fn` in a transaction on `session` and commits it, retrying within the budget as the specification says. */
export async function runTransaction<T>(session: TransactionSession, fn: () => Promise<T>, run: TransactionRun): Promise<T> {
  const now = run.now ?? (() => performance.now());
  const sleep = run.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + run.budgetMs;

  /** Waits before another attempt; false when that would end past the budget. */
  const backoff = async (attempt: number): Promise<boolean> => {
    const ms = Math.random() * Math.min(BACKOFF_INITIAL_MS * 1.5 ** attempt, BACKOFF_MAX_MS);
    if (now() + ms >= deadline) return false;
    await sleep(ms);
    return true;
  };

  attempts: for (let attempt = 1; ; attempt++) {
    session.startTransaction(run.transaction);
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      if (session.inTransaction()) await session.abortTransaction();
      if (hasLabel(err, MongoErrorLabel.TransientTransactionError) && (await backoff(attempt))) continue attempts;
      throw err;
    }
    for (;;) {
      try {
        await session.commitTransaction();
        return result;
      } catch (err) {
        // Retrying the commit is safe (the server commits a transaction once); a commit that ran out of
        // maxCommitTimeMS is not retried, as the specification says.
        if (hasLabel(err, MongoErrorLabel.UnknownTransactionCommitResult) && !maxTimeExpired(err) && now() < deadline) continue;
        if (hasLabel(err, MongoErrorLabel.TransientTransactionError) && (await backoff(attempt))) continue attempts;
        throw err;
      }
    }
  }
}

function hasLabel(err: unknown, label: string): boolean {
  return err instanceof MongoError && err.hasErrorLabel(label);
}

function maxTimeExpired(err: unknown): boolean {
  if (!(err instanceof MongoError)) return false;
  const concern = (err as { writeConcernError?: { code?: unknown } }).writeConcernError;
  return err.code === MAX_TIME_EXPIRED || concern?.code === MAX_TIME_EXPIRED;
}
