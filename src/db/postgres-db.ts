// PostgreSQL adapter: a pg Pool. Pool usage feeds the database pool metrics.
import { setTimeout as sleep } from 'node:timers/promises';

import pg from 'pg';

import { OperationalError } from '../errors.ts';
import type { Db, Queryable, QueryOptions, QueryResult, Row } from './db.ts';
import { lockKey } from './db.ts';
import { KeyedMutex } from './keyed-mutex.ts';

export type PostgresDbOptions = {
  url: string;
  /** Most connections. @default 10 */
  max?: number;
  /** Statement timeout in ms, 0 for none. @default 30000 */
  statementTimeoutMs?: number;
  /** Name shown in pg_stat_activity. @default "warden" */
  applicationName?: string;
};

// bigint columns (counts, ids) come back as strings by default; int8 values
// Warden stores fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * Connection-level failures are the dependency's fault (503); SQL errors are
 * ours. A server-side error carries a SQLSTATE and a severity; one without
 * them (ECONNREFUSED, "Connection terminated unexpectedly", timeouts) never
 * reached the server. Classes 08 (connection), 53 (resources) and 57P
 * (shutdown) come from the server but still mean it is unavailable.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (typeof e.severity !== 'string') return true;
  return typeof e.code === 'string' && /^(08|53|57P)/.test(e.code);
}

function wrap(err: unknown): never {
  if (isConnectionError(err)) {
    throw new OperationalError(
      'database_unavailable',
      `PostgreSQL is unavailable: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  throw err;
}

export class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly max: number;
  private readonly locks = new KeyedMutex();
  private lockClient: Promise<pg.Client> | undefined;
  private closed = false;
  statementCount = 0;

  constructor(private readonly options: PostgresDbOptions) {
    this.max = options.max ?? 10;
    const timeout = options.statementTimeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: this.max,
      application_name: options.applicationName ?? 'warden',
      connectionTimeoutMillis: 10_000,
      // Connections opened under a jump in load cost a backend start each,
      // in the middle of the jump: idle ones are kept (and do not hold the
      // process open), and warm() opens them all before traffic.
      idleTimeoutMillis: 0,
      allowExitOnIdle: true,
      // Short statements never gain from JIT compilation; a plan that
      // crosses jit_above_cost would pay it on every call. Prepared
      // statements are planned for their values each time: a generic plan
      // made while the executions table was empty scans the whole table
      // for ever after (seen: a sequential scan of every execution per
      // claim), and planning one short statement costs less than parsing it.
      options: '-c jit=off -c plan_cache_mode=force_custom_plan',
      ...(timeout > 0 ? { statement_timeout: timeout } : {}),
    });
    // An idle client that loses its connection emits here; without a
    // listener the process would crash.
    this.pool.on('error', () => {});
  }

  // Names of the prepared statements, by SQL text (few, fixed texts).
  private readonly prepared = new Map<string, string>();

  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    this.statementCount++;
    let name: string | undefined;
    if (options?.prepare) {
      name = this.prepared.get(sql);
      if (!name) this.prepared.set(sql, (name = `warden_${this.prepared.size + 1}`));
    }
    try {
      const res = await this.pool.query<R>({
        text: sql,
        values: params as unknown[] | undefined,
        ...(name ? { name } : {}),
      });
      return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
    } catch (err) {
      return wrap(err);
    }
  }

  async exec(sql: string): Promise<void> {
    // A multi-statement script answers with one result per statement; none is wanted.
    this.statementCount++;
    await this.pool.query(sql).catch(wrap);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(wrap);
    try {
      this.statementCount++;
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
          this.statementCount++;
          const res = await client.query<R>(sql, params as unknown[] | undefined).catch(wrap);
          return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
        },
      };
      const result = await fn(tx);
      this.statementCount++;
      await client.query('COMMIT');
      return result;
    } catch (err) {
      this.statementCount++;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Session advisory locks live on one dedicated connection outside the
   * pool, so a caller holding a lock never holds a pool connection while it
   * asks the pool for another (ten healing runs under a lock used to take
   * all ten and wait on each other). Callers of one process queue on an
   * in-process mutex per key; across processes the lock connection polls
   * pg_try_advisory_lock, since a blocking pg_advisory_lock would stall
   * every other key on that connection.
   */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, async () => {
      const held = await this.acquire(key, { wait: true });
      try {
        return await fn();
      } finally {
        await this.unlock(held);
      }
    });
  }

  async tryWithLock<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (this.locks.isLocked(key)) return undefined;
    return this.locks.run(key, async () => {
      const held = await this.acquire(key, { wait: false });
      if (!held) return undefined;
      try {
        return await fn();
      } finally {
        await this.unlock(held);
      }
    });
  }

  private lockSession(): Promise<pg.Client> {
    if (this.closed)
      return Promise.reject(new OperationalError('database_closed', 'the database is closed'));
    if (!this.lockClient) {
      const client = new pg.Client({
        connectionString: this.options.url,
        application_name: `${this.options.applicationName ?? 'warden'}:locks`,
        connectionTimeoutMillis: 10_000,
      });
      const forget = () => {
        if (this.lockClient === opened) this.lockClient = undefined;
      };
      // A lost lock connection releases its locks on the server; the next
      // caller opens a new one.
      client.on('error', forget);
      client.on('end', forget);
      const opened: Promise<pg.Client> = client.connect().then(
        () => client,
        (err: unknown) => {
          forget();
          return wrap(err);
        },
      );
      this.lockClient = opened;
    }
    return this.lockClient;
  }

  private async acquire(
    key: string,
    options: { wait: boolean },
  ): Promise<{ client: pg.Client; k: string } | undefined> {
    const k = lockKey(key).toString();
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      const client = await this.lockSession();
      this.statementCount++;
      const res = await client
        .query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [k])
        .catch(wrap);
      if (res.rows[0]?.ok) return { client, k };
      if (!options.wait) return undefined;
      await sleep(delay);
    }
  }

  private async unlock(held: { client: pg.Client; k: string } | undefined): Promise<void> {
    if (!held) return;
    this.statementCount++;
    // A lock connection that died took its locks with it.
    await held.client.query('SELECT pg_advisory_unlock($1::bigint)', [held.k]).catch(() => {});
  }

  async warm(sql = 'SELECT 1'): Promise<void> {
    const clients: pg.PoolClient[] = [];
    try {
      for (let i = 0; i < this.max; i++) clients.push(await this.pool.connect().catch(wrap));
      await Promise.all(
        clients.map((c) => {
          this.statementCount++;
          return c.query(sql).catch(wrap);
        }),
      );
    } finally {
      for (const c of clients) c.release();
    }
  }

  stats() {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
      max: this.max,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const locks = this.lockClient;
    this.lockClient = undefined;
    await locks?.then((c) => c.end()).catch(() => {});
    await this.pool.end();
  }
}
