/**
 * The MongoDB history store's consistency and waits, as driver options: durable writes, majority
 * reads, and every wait bounded so a lost primary fails an append in seconds rather than holding a
 * slot of the group commit for minutes (README's MONGO_*_TIMEOUT_MS keys).
 */
import { type MongoClientOptions, ReadConcern, type TransactionOptions, WriteConcern } from 'mongodb';

/** How long the store waits for MongoDB before failing (README's MONGO_* keys). */
export interface MongoTimeouts {
  /** Longest wait for a primary (an election, a lost primary) before an operation fails, ms. Default 5000. */
  serverSelectionTimeoutMs: number;
  /** Longest wait of a write for its majority acknowledgement (wtimeout), and of an append's commit (maxCommitTimeMS), ms. Default 5000. */
  writeTimeoutMs: number;
  /** An append starts no further attempt and retries no commit after this long, ms. Default 10000. */
  appendTimeoutMs: number;
  /** Longest wait for the server's answer on an open connection, ms. Default 30000. */
  socketTimeoutMs: number;
  /** Longest wait of a readiness ping, ms. Default 1000. */
  pingTimeoutMs: number;
}

export const DEFAULT_MONGO_TIMEOUTS: Readonly<MongoTimeouts> = Object.freeze({
  serverSelectionTimeoutMs: 5000,
  writeTimeoutMs: 5000,
  appendTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
  pingTimeoutMs: 1000,
});

/** The client's options: durable writes, majority reads, and waits bounded by `timeouts`. */
export function mongoClientOptions(timeouts: MongoTimeouts): MongoClientOptions {
  return {
    writeConcern: durable(timeouts),
    // Every read outside the append's snapshot transaction: none serves a write a failover may roll back.
    // (as a level: a readConcernLevel in MONGO_URL would otherwise override a readConcern object)
    readConcernLevel: 'majority',
    serverSelectionTimeoutMS: timeouts.serverSelectionTimeoutMs,
    // A new connection to a host that vanished would otherwise wait 30 s.
    connectTimeoutMS: timeouts.serverSelectionTimeoutMs,
    socketTimeoutMS: timeouts.socketTimeoutMs,
  };
}

/** Each attempt of an append: a snapshot of the primary, committed durably within the write timeout. */
export function appendTransactionOptions(timeouts: MongoTimeouts): TransactionOptions {
  return {
    readConcern: new ReadConcern('snapshot'),
    writeConcern: durable(timeouts),
    readPreference: 'primary',
    maxCommitTimeMS: timeouts.writeTimeoutMs,
  };
}

/** Acknowledged once a majority of the replica set has the write in its journal, or failed after the write timeout. */
function durable(timeouts: MongoTimeouts): WriteConcern {
  return new WriteConcern('majority', timeouts.writeTimeoutMs, true);
}

