// The Db port: what the rest of Warden knows about its database. Two
// adapters implement it (embedded PGlite, PostgreSQL through a pg Pool) and
// both pass the same contract suite (db-contract.ts).

export type Row = Record<string, unknown>;

export type QueryResult<R extends Row = Row> = {
  rows: R[];
  /** Rows changed by INSERT/UPDATE/DELETE; rows returned by SELECT. */
  rowCount: number;
};

export type QueryOptions = {
  /**
   * A statement the process sends often with the same text: PostgreSQL
   * keeps it parsed and planned per connection (a named prepared
   * statement), and its text crosses the wire once per connection. Only for
   * fixed SQL texts whose result columns are listed by name. @default false
   */
  prepare?: boolean;
};

export interface Queryable {
  /** One statement, with $1..$n parameters. */
  query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
}

export type PoolStats = {
  /** Connections open (PGlite: always 1). */
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
  max: number;
};

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Statements this process has sent to the database through this Db: one
   * per query, one per BEGIN, COMMIT or ROLLBACK of a transaction, one per
   * lock call, one per exec() script. The figure behind
   * warden_db_statements_total: round trips, not JavaScript, bound the rate.
   */
  readonly statementCount: number;
  /**
   * How many batched writes (db/micro-batcher.ts) are worth sending at once.
   * A pool runs them side by side; PGlite on its own thread runs one at a
   * time, and there a second batch sent early would only wait, smaller than
   * if it had gathered what arrives meanwhile. @default 4
   */
  readonly writeBatchesInFlight?: number;
  /**
   * Files this process flushed to the disk (fsync) for the database: the
   * embedded database's commits and checkpoints. Undefined where the process
   * does not flush them itself (PostgreSQL's server does; PGlite with fsync
   * off or on its own thread).
   */
  readonly diskFlushCount?: number;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn while holding a cluster-wide lock named by key. PostgreSQL: a
   * session advisory lock on a connection of its own, outside the pool, so
   * fn may use the pool freely; PGlite: the process's own mutex, since the
   * data lock file already keeps other processes out.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Runs fn only if the lock is free now; returns undefined when it is held elsewhere. */
  tryWithLock<T>(key: string, fn: () => Promise<T>): Promise<T | undefined>;
  stats(): PoolStats;
  /**
   * Opens every connection the pool may use and runs sql on each, so that
   * a jump in load finds them ready (a new PostgreSQL backend costs a fork
   * and cold catalog caches) instead of opening them under the load.
   */
  warm(sql?: string): Promise<void>;
  close(): Promise<void>;
}

/** Maps a lock name to the 64-bit key PostgreSQL's advisory locks take. */
export function lockKey(name: string): bigint {
  // FNV-1a 64-bit: stable across processes and versions.
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(name, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, h);
}

/**
 * Takes a lock named by key for the rest of the transaction (released at
 * commit or rollback), on the transaction's own connection.
 */
export async function lockForTransaction(tx: Queryable, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(key).toString()]);
}
