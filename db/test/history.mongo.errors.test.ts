/**
 * The MongoDB history store's decisions on the server's answers, without a server: errors are
 * built as the driver builds them from the server's replies.
 */
import t from 'tap';
import {
  type BulkWriteResult,
  MongoBulkWriteError,
  MongoServerError,
  MongoServerSelectionError,
  type TopologyDescription,
  type WriteError,
} from 'mongodb';
import {
  type AppendAttempt,
  appendConflictOf,
  deploymentProblem,
  FIRST_ATTEMPT,
  nextAttempt,
  uninitiatedError,
} from '../history.mongo.errors.ts';
import { countersBehind } from '../history.mongo.counters.ts';

const dupMessage = (collection: string, index: string, key: string) =>
  `E11000 duplicate key error collection: history_3f.${collection} index: ${index} dup key: ${key}`;

/** What an ordered insertMany throws when its first failing document hits a unique index. */
function insertManyDuplicate(collection: string, index: string, key: string): MongoBulkWriteError {
  const errmsg = dupMessage(collection, index, key);
  // The driver's WriteError class is not exported; its getters read these fields.
  const writeError = { index: 2, code: 11000, errmsg, errInfo: {} } as unknown as WriteError;
  return new MongoBulkWriteError({ message: errmsg, code: 11000, writeErrors: [writeError] }, {} as BulkWriteResult);
}

/** What a single-document command (findOneAndUpdate with upsert) throws on a duplicate key. */
function commandDuplicate(collection: string, index: string, key: string, keyPattern: object): MongoServerError {
  return new MongoServerError({ errmsg: dupMessage(collection, index, key), code: 11000, codeName: 'DuplicateKey', keyPattern });
}

t.test('a duplicate key is told apart by the index it hit', async (t) => {
  t.equal(
    appendConflictOf(insertManyDuplicate('messages', 'room_sender_client_msg_id', '{ room: "1-2", sender: 1, clientMsgId: "m1" }')),
    'message-exists',
    'a repeated (room, sender, clientMsgId) is an idempotent repeat',
  );
  t.equal(
    appendConflictOf(insertManyDuplicate('messages', 'room_seq', '{ room: "1-2", seq: 7 }')),
    'counter-behind',
    'a taken (room, seq) means the counter is behind its messages',
  );
  t.equal(
    appendConflictOf(commandDuplicate('counters', '_id_', '{ _id: "1-2" }', { _id: 1 })),
    'counter-race',
    'two appends creating one room counter is a race',
  );
  t.equal(
    appendConflictOf(insertManyDuplicate('counters', '_id_', '{ _id: "1-2" }')),
    'counter-race',
    'the same race through the bulk write of a batch of several rooms',
  );
  t.equal(appendConflictOf(insertManyDuplicate('messages', '_id_', '{ _id: "0190…" }')), undefined, 'a message id taken is not mended');
  t.equal(
    appendConflictOf(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000, keyPattern: { room: 1, seq: 1 } })),
    'counter-behind',
    'without the index in the message, the key pattern tells',
  );
  t.equal(
    appendConflictOf(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000, keyPattern: { room: 1, sender: 1, clientMsgId: 1 } })),
    'message-exists',
    'the key pattern of the idempotency index tells too',
  );
  t.equal(
    appendConflictOf(new MongoServerError({ errmsg: 'WriteConflict', code: 112, codeName: 'WriteConflict' })),
    undefined,
    'an error that is not a duplicate key is none of these',
  );
  t.equal(appendConflictOf(new Error('E11000 duplicate key error collection: a.messages index: room_seq')), undefined, 'nor is an error that does not come from the driver');
});

t.test('after a failed attempt', async (t) => {
  t.test('a repeated message leads to a lookup, never to a counter repair', async (t) => {
    const first = nextAttempt('message-exists', FIRST_ATTEMPT);
    t.same(first, { attempt: { lookup: true, repaired: false, raced: false }, repair: false }, 'the next attempt looks the keys up');
    const second = nextAttempt('message-exists', first!.attempt);
    t.same(second, { attempt: { lookup: true, repaired: false, raced: true }, repair: false }, 'stored by another writer meanwhile: one more lookup');
    t.equal(nextAttempt('message-exists', second!.attempt), undefined, 'then the error is the answer');
  });

  t.test('a counter behind its messages is repaired once', async (t) => {
    const first = nextAttempt('counter-behind', FIRST_ATTEMPT);
    t.same(first, { attempt: { lookup: false, repaired: true, raced: false }, repair: true }, 'repair, then retry');
    t.equal(nextAttempt('counter-behind', first!.attempt), undefined, 'a second collision after the repair propagates');
  });

  t.test('a race on a new counter is retried once', async (t) => {
    const first = nextAttempt('counter-race', FIRST_ATTEMPT);
    t.same(first, { attempt: { lookup: false, repaired: false, raced: true }, repair: false }, 'retried without repair');
    t.equal(nextAttempt('counter-race', first!.attempt), undefined, 'not twice');
  });

  t.test('any other error propagates at once', async (t) => {
    t.equal(nextAttempt(undefined, FIRST_ATTEMPT), undefined, 'no retry');
  });

  t.test('an append makes at most four attempts whatever it meets', async (t) => {
    const conflicts = ['message-exists', 'counter-behind', 'counter-race'] as const;
    let longest = 0;
    // Every sequence of conflicts, depth first, until the decision stops.
    const walk = (attempt: AppendAttempt, made: number): void => {
      longest = Math.max(longest, made);
      for (const c of conflicts) {
        const next = nextAttempt(c, attempt);
        if (next) walk(next.attempt, made + 1);
      }
    };
    walk(FIRST_ATTEMPT, 1);
    t.equal(longest, 4, 'four attempts at most');
  });
});

t.test('counters behind their messages are the ones raised', async (t) => {
  const maxSeqs = new Map([['a', 10], ['b', 5], ['c', 3]]);
  const counters = new Map([['a', 7], ['b', 5], ['c', 9]]);
  t.same(countersBehind(maxSeqs, counters), [{ room: 'a', counter: 7, maxSeq: 10 }], 'only the counter below its highest seq');
  t.same(countersBehind(new Map([['d', 2]]), new Map()), [{ room: 'd', counter: 0, maxSeq: 2 }], 'a missing counter counts as 0');
});

t.test('a deployment that cannot run transactions is named', async (t) => {
  t.equal(deploymentProblem({ setName: 'rs0', isWritablePrimary: true }), undefined, 'a replica set member is fine');
  t.equal(deploymentProblem({ msg: 'isdbgrid' }), undefined, 'a mongos is fine');
  t.match(
    deploymentProblem({ isWritablePrimary: false, isreplicaset: true, info: 'Does not have a valid replica set config' }),
    /never initiated.*run rs\.initiate\(\)/,
    'a member started with --replSet whose set was never initiated is told to run rs.initiate()',
  );
  t.notMatch(deploymentProblem({ isreplicaset: true }), /standalone/, 'and is not called a standalone');
  t.match(deploymentProblem({ isWritablePrimary: true }, 94), /never initiated/, 'NotYetInitialized from replSetGetStatus says the same');
  t.match(deploymentProblem({ isWritablePrimary: true }, 76), /standalone mongod/, 'a standalone (NoReplicationEnabled) is a standalone');
  t.match(deploymentProblem({ isWritablePrimary: true }), /standalone mongod/, 'and so is a server that would not say');
});

t.test('connecting to a set that was never initiated says to run rs.initiate()', async (t) => {
  const ghost = new MongoServerSelectionError('Server selection timed out after 5000 ms', {
    servers: new Map([['127.0.0.1:27017', { type: 'RSGhost', error: null }]]),
  } as unknown as TopologyDescription);
  const explained = uninitiatedError(ghost);
  t.match(explained?.message, /run rs\.initiate\(\)/, 'a ghost member (isreplicaset, no set) is explained');
  t.equal(explained?.cause, ghost, 'the driver error stays as the cause');
  t.match(uninitiatedError(new MongoServerError({ errmsg: 'no replset config has been received', code: 94 }))?.message, /rs\.initiate/, 'NotYetInitialized is explained');
  const down = new MongoServerSelectionError('connect ECONNREFUSED', {
    servers: new Map([['127.0.0.1:27017', { type: 'Unknown', error: null }]]),
  } as unknown as TopologyDescription);
  t.equal(uninitiatedError(down), undefined, 'a server that is down is not explained as uninitiated');
});
