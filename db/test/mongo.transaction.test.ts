/**
 * The budgeted transaction runner against a scripted session: no server, and time moves only when
 * the test (or the runner's backoff) moves it.
 */
import t from 'tap';
import { MongoServerError } from 'mongodb';
import { runTransaction, type TransactionSession } from '../mongo.transaction.ts';

/** A session whose commits answer from a script, and a clock that only the runner's waits and the test advance. */
function scripted(commits: Array<Error | undefined> = []) {
  const log: string[] = [];
  let ms = 0;
  let open = false;
  const session: TransactionSession = {
    startTransaction: () => {
      open = true;
      log.push('start');
    },
    inTransaction: () => open,
    abortTransaction: async () => {
      open = false;
      log.push('abort');
    },
    commitTransaction: async () => {
      log.push('commit');
      const err = commits.shift();
      if (err) throw err;
      open = false;
    },
  };
  return {
    session,
    log,
    clock: { now: () => ms, advance: (by: number) => void (ms += by) },
    sleep: async (wait: number) => void (ms += wait),
  };
}

const transient = () =>
  new MongoServerError({ errmsg: 'Server selection timed out', code: 189, codeName: 'PrimarySteppedDown', errorLabels: ['TransientTransactionError'] });
const unknownCommit = () =>
  new MongoServerError({ errmsg: 'waiting for replication timed out', code: 64, codeName: 'WriteConcernFailed', errorLabels: ['UnknownTransactionCommitResult'] });

t.test('a transaction that succeeds commits once and returns its result', async (t) => {
  const s = scripted();
  const result = await runTransaction(s.session, async () => 42, { transaction: {}, budgetMs: 1000, now: s.clock.now, sleep: s.sleep });
  t.equal(result, 42, 'the callback result');
  t.same(s.log, ['start', 'commit'], 'one attempt, one commit');
});

t.test('transient errors are retried only within the budget, then the last one propagates unchanged', async (t) => {
  const s = scripted();
  let calls = 0;
  let last: Error | undefined;
  const run = runTransaction(
    s.session,
    async () => {
      calls++;
      s.clock.advance(1000); // each attempt waits out a server selection of 1 s
      throw (last = transient());
    },
    { transaction: {}, budgetMs: 5000, now: s.clock.now, sleep: s.sleep },
  );
  const err = await run.catch((e: unknown) => e);
  t.equal(err, last, 'the error of the last attempt, as the driver raised it');
  t.match(err, { code: 189, codeName: 'PrimarySteppedDown' }, 'with its code and codeName');
  t.ok(calls >= 5 && calls <= 6, `attempts stop at the budget (${calls} attempts of 1 s for a 5 s budget)`);
  t.equal(s.log.filter((l) => l === 'abort').length, calls, 'every failed attempt was aborted');
});

t.test('an error that is not transient propagates at once', async (t) => {
  const s = scripted();
  const duplicate = new MongoServerError({ errmsg: 'E11000 duplicate key error', code: 11000, codeName: 'DuplicateKey' });
  await t.rejects(
    runTransaction(s.session, async () => { throw duplicate; }, { transaction: {}, budgetMs: 10_000, now: s.clock.now, sleep: s.sleep }),
    duplicate,
    'the duplicate key error itself',
  );
  t.same(s.log, ['start', 'abort'], 'one attempt, aborted, no retry');
});

t.test('an unknown commit result is retried until the budget runs out', async (t) => {
  t.test('and succeeds when a retry commits', async (t) => {
    const s = scripted([unknownCommit(), unknownCommit(), undefined]);
    const result = await runTransaction(s.session, async () => 'ok', { transaction: {}, budgetMs: 10_000, now: s.clock.now, sleep: s.sleep });
    t.equal(result, 'ok', 'the result');
    t.same(s.log, ['start', 'commit', 'commit', 'commit'], 'the commit was retried, the transaction was not run again');
  });

  t.test('and propagates the commit error once the budget is spent', async (t) => {
    const errors = Array.from({ length: 100 }, unknownCommit);
    const s = scripted([...errors]);
    const session: TransactionSession = {
      ...s.session,
      commitTransaction: async () => {
        s.clock.advance(2000); // each commit waits out a write concern timeout
        return s.session.commitTransaction();
      },
    };
    const err = await runTransaction(session, async () => 'ok', { transaction: {}, budgetMs: 5000, now: s.clock.now, sleep: s.sleep }).catch((e: unknown) => e);
    t.match(err, { code: 64, codeName: 'WriteConcernFailed' }, 'the write concern error, unchanged');
    t.equal(s.log.filter((l) => l === 'commit').length, 3, 'three commits of 2 s fit a 5 s budget');
  });

  t.test('but not after the commit ran out of maxCommitTimeMS', async (t) => {
    const expired = new MongoServerError({ errmsg: 'operation exceeded time limit', code: 50, codeName: 'MaxTimeMSExpired', errorLabels: ['UnknownTransactionCommitResult'] });
    const s = scripted([expired]);
    await t.rejects(runTransaction(s.session, async () => 'ok', { transaction: {}, budgetMs: 10_000, now: s.clock.now, sleep: s.sleep }), expired, 'MaxTimeMSExpired propagates');
    t.same(s.log, ['start', 'commit'], 'without a retry');
  });
});

t.test('a transient commit error runs the transaction again', async (t) => {
  const s = scripted([transient(), undefined]);
  let calls = 0;
  const result = await runTransaction(s.session, async () => ++calls, { transaction: {}, budgetMs: 10_000, now: s.clock.now, sleep: s.sleep });
  t.equal(result, 2, 'the second run of the callback is the result');
  t.same(s.log, ['start', 'commit', 'start', 'commit'], 'two attempts');
});
