// Embedded adapter: PGlite (PostgreSQL compiled to WebAssembly) with pgvector.
// One connection per process; the data-directory lock file keeps a second
// process out, because two PGlite instances on one directory corrupt it.
import { setFlagsFromString } from 'node:v8';

import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

import type { Db, Queryable, QueryResult, Row } from './db.ts';
import { KeyedMutex } from './keyed-mutex.ts';

export type PgliteDbOptions = {
  /** Directory for the database files; undefined keeps it in memory (tests). */
  dataDir?: string;
  /**
   * PostgreSQL's shared_buffers, in MB. PGlite's own default (128 MB) lives
   * in the WebAssembly heap and is touched as pages are read, so it ends up
   * in the process's resident memory; Warden's tables are far smaller.
   * @default 128 (PostgreSQL's, when unset)
   */
  sharedBuffersMb?: number;
  /**
   * Let V8 optimise PGlite's WebAssembly (TurboFan) as it runs hot. Off, it
   * stays on the baseline compiler: a webhook execution costs about a third
   * more CPU, and the process saves about a second of CPU at start and
   * 80-100 MB of memory. The flag is process-wide and cannot be undone once off.
   * @default true
   */
  wasmTierUp?: boolean;
};

function toResult<R extends Row>(res: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
}

/**
 * PGlite's own start parameters plus Warden's. A new WAL segment is not
 * zero-filled (wal_init_zero=off): on PGlite's file system that fill is 16 MB
 * of writes done inside a commit, a 50-70 ms stall every few seconds under
 * load, and it buys nothing there (the fill exists to reserve disk blocks).
 * Nor is an old segment kept for reuse (wal_recycle=off): after a checkpoint
 * (pglite-maintenance.ts) it is removed, so the data directory and each
 * backup hold only the WAL written since.
 */
export function startParams(options: PgliteDbOptions): string[] {
  const params = [...PGlite.defaultStartParams, '-c', 'wal_init_zero=off', '-c', 'wal_recycle=off'];
  if (options.sharedBuffersMb) params.push('-c', `shared_buffers=${options.sharedBuffersMb}MB`);
  return params;
}

export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private readonly locks = new KeyedMutex();
  private waiting = 0;
  statementCount = 0;

  private constructor(readonly pg: PGlite) {}

  static async open(options: PgliteDbOptions = {}): Promise<PgliteDb> {
    if (options.wasmTierUp === false) setFlagsFromString('--liftoff-only');
    const pg = await PGlite.create(options.dataDir ?? 'memory://', {
      extensions: { vector },
      startParams: startParams(options),
    });
    return new PgliteDb(pg);
  }

  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    this.waiting++;
    this.statementCount++;
    try {
      return toResult(await this.pg.query<R>(sql, params as unknown[] | undefined));
    } finally {
      this.waiting--;
    }
  }

  async exec(sql: string): Promise<void> {
    this.statementCount++;
    await this.pg.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // PGlite sends BEGIN and COMMIT (or ROLLBACK) around fn's statements.
    this.statementCount += 2;
    return this.pg.transaction(async (t) =>
      fn({
        query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
          this.statementCount++;
          return toResult(await t.query<R>(sql, params as unknown[] | undefined));
        },
      }),
    );
  }

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  async tryWithLock<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.locks.isLocked(key)) return undefined;
    return this.locks.run(key, fn);
  }

  /** One connection, in process: running sql once loads what it touches. */
  async warm(sql = 'SELECT 1'): Promise<void> {
    await this.query(sql);
  }

  stats() {
    const busy = Math.min(this.waiting, 1);
    return { total: 1, idle: 1 - busy, waiting: Math.max(0, this.waiting - 1), max: 1 };
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
