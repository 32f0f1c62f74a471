// Embedded adapter: PGlite (PostgreSQL compiled to WebAssembly) with pgvector.
// One connection per process; the data-directory lock file keeps a second
// process out, because two PGlite instances on one directory corrupt it.
import { setFlagsFromString } from 'node:v8';

import type { Results } from '@electric-sql/pglite';
import { parse as pgParse, PGlite, protocol } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

import type { Db, Queryable, QueryOptions, QueryResult, Row } from './db.ts';
import { FlushingNodeFS, flushingStartParams } from './durable-fs.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import type { TreeEntry } from './tar.ts';
import { readTreeSync } from './tar.ts';

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
  /**
   * Flush each commit's WAL, and each checkpoint's files, to the disk
   * (durable-fs.ts), so that what was committed survives a power loss or a
   * kernel crash. Off, as PGlite runs by default, writes reach only the
   * operating system's cache: a crash of Warden loses nothing, a crash of
   * the machine can lose commits and corrupt the database.
   * @default true
   */
  fsync?: boolean;
};

/**
 * The embedded database's files at one instant, for a backup: the data
 * directory's tree (read while PGlite answers nothing, so no statement
 * changes it midway), or PGlite's own tar of a database kept in memory.
 */
export type EmbeddedSnapshot =
  { kind: 'tree'; tree: TreeEntry[] } | { kind: 'tarball'; data: Uint8Array };

/** The embedded database, in process or on its own thread. */
export interface EmbeddedDb extends Db {
  readonly kind: 'pglite';
  /** Its files at one instant; checkpoint first to keep the WAL in it short. */
  snapshot(): Promise<EmbeddedSnapshot>;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function toResult<R extends Row>(res: { rows: R[]; affectedRows?: number }): QueryResult<R> {
  return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
}

/** The data directory when the database is on disk; undefined in memory. */
function onDisk(options: PgliteDbOptions): string | undefined {
  const dir = options.dataDir;
  return dir && !dir.includes('://') ? dir : undefined;
}

/** A database on disk flushes unless told not to; one in memory has no disk. */
function flushes(options: PgliteDbOptions): boolean {
  return options.fsync !== false && onDisk(options) !== undefined;
}

/**
 * PGlite's own start parameters plus Warden's. A new WAL segment is not
 * zero-filled (wal_init_zero=off): on PGlite's file system that fill is 16 MB
 * of writes done inside a commit, a 50-70 ms stall every few seconds under
 * load, and it buys nothing there (the fill exists to reserve disk blocks;
 * with fsync on, commits on zero-filled segments flushed no faster).
 * Nor is an old segment kept for reuse (wal_recycle=off): after a checkpoint
 * (pglite-maintenance.ts) it is removed, so the data directory and each
 * backup hold only the WAL written since.
 */
export function startParams(options: PgliteDbOptions): string[] {
  const params = [...PGlite.defaultStartParams, '-c', 'wal_init_zero=off', '-c', 'wal_recycle=off'];
  if (flushes(options)) params.push(...flushingStartParams);
  if (options.sharedBuffersMb) params.push('-c', `shared_buffers=${options.sharedBuffersMb}MB`);
  return params;
}

/**
 * What both embedded adapters share: one connection, so locks are this
 * process's own mutex (the data-directory lock keeps other processes out),
 * and the pool statistics are of that one connection.
 */
export abstract class OneConnection {
  readonly kind = 'pglite' as const;
  statementCount = 0;
  /** Statements sent and not yet answered. */
  protected waiting = 0;
  private readonly locks = new KeyedMutex();

  abstract query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>>;

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  async tryWithLock<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.locks.isLocked(key)) return undefined;
    return this.locks.run(key, fn);
  }

  /** One connection: running sql once loads what it touches. */
  async warm(sql = 'SELECT 1'): Promise<void> {
    await this.query(sql);
  }

  stats() {
    const busy = Math.min(this.waiting, 1);
    return { total: 1, idle: 1 - busy, waiting: Math.max(0, this.waiting - 1), max: 1 };
  }
}

export class PgliteDb extends OneConnection implements EmbeddedDb {
  private constructor(
    readonly pg: PGlite,
    /** On disk; undefined for a database in memory. */
    private readonly dataDir: string | undefined,
    private readonly fs?: FlushingNodeFS,
  ) {
    super();
  }

  static async open(options: PgliteDbOptions = {}): Promise<PgliteDb> {
    if (options.wasmTierUp === false) setFlagsFromString('--liftoff-only');
    const fs = flushes(options) ? new FlushingNodeFS(options.dataDir!) : undefined;
    const pg = await PGlite.create({
      ...(fs ? { fs } : { dataDir: options.dataDir ?? 'memory://' }),
      extensions: { vector },
      startParams: startParams(options),
    });
    return new PgliteDb(pg, onDisk(options), fs);
  }

  /** Prepared statements by SQL text: name and parameter types. */
  private readonly prepared = new Map<string, { name: string; paramTypes: number[] }>();

  /** Files flushed to the disk (fsync) since open; undefined when it does not flush. */
  get diskFlushCount(): number | undefined {
    return this.fs?.flushCount;
  }

  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    this.waiting++;
    this.statementCount++;
    try {
      if (options?.prepare) return toResult(await this.runPrepared<R>(sql, params ?? []));
      return toResult(await this.pg.query<R>(sql, params as unknown[] | undefined));
    } finally {
      this.waiting--;
    }
  }

  /**
   * A statement run as a named prepared statement. PGlite's query() parses
   * and plans its text each time and sends each protocol message into the
   * WebAssembly on its own; for the statement that records an execution that
   * was about 1.2 of the 3 ms it cost at 200 executions/s. Here the text is
   * parsed once (Parse and Describe), and each run sends Bind, Describe,
   * Execute and Sync as one message; PostgreSQL keeps the plan (a generic
   * one once it is no dearer than a custom one, plan_cache_mode's rule).
   * The same locks as query(): no statement of an open transaction or of
   * another query interleaves.
   */
  private runPrepared<R extends Row>(sql: string, params: readonly unknown[]) {
    const { pg } = this;
    return pg._runExclusiveTransaction(() =>
      pg._runExclusiveQuery(async () => {
        let stmt = this.prepared.get(sql);
        if (!stmt) {
          const name = `warden_${this.prepared.size + 1}`;
          const described = await pg.execProtocolStream(
            concatBytes([
              protocol.serialize.parse({ name, text: sql }),
              protocol.serialize.describe({ type: 'S', name }),
              protocol.serialize.sync(),
            ]),
            { syncToFs: false },
          );
          stmt = { name, paramTypes: pgParse.parseDescribeStatementResults(described) };
          this.prepared.set(sql, stmt);
        }
        const types = stmt.paramTypes;
        const values = params.map((p, i) => {
          if (p === null || p === undefined) return null;
          const serialize = pg.serializers[types[i]!];
          return serialize ? serialize(p) : String(p);
        });
        const messages = await pg.execProtocolStream(
          concatBytes([
            protocol.serialize.bind({ statement: stmt.name, values }),
            protocol.serialize.describe({ type: 'P' }),
            protocol.serialize.execute({}),
            protocol.serialize.sync(),
          ]),
        );
        return pgParse.parseResults(messages, pg.parsers)[0] as Results<R>;
      }),
    );
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

  async snapshot(): Promise<EmbeddedSnapshot> {
    const dataDir = this.dataDir;
    if (!dataDir) {
      // A database in memory (tests): only PGlite can read its files.
      const blob = await this.pg.dumpDataDir('none');
      return { kind: 'tarball', data: new Uint8Array(await blob.arrayBuffer()) };
    }
    return {
      kind: 'tree',
      tree: await this.pg._runExclusiveQuery(async () => readTreeSync(dataDir)),
    };
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
