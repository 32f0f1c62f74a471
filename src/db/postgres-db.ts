// PostgreSQL adapter: a pg Pool. Pool usage feeds the database pool metrics.
import pg from 'pg';

import { OperationalError } from '../errors.ts';
import type { Db, Queryable, QueryResult, Row } from './db.ts';
import { lockKey } from './db.ts';

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

  constructor(options: PostgresDbOptions) {
    this.max = options.max ?? 10;
    const timeout = options.statementTimeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: this.max,
      application_name: options.applicationName ?? 'warden',
      connectionTimeoutMillis: 10_000,
      ...(timeout > 0 ? { statement_timeout: timeout } : {}),
    });
    // An idle client that loses its connection emits here; without a
    // listener the process would crash.
    this.pool.on('error', () => {});
  }

  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    try {
      const res = await this.pool.query<R>(sql, params as unknown[] | undefined);
      return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
    } catch (err) {
      return wrap(err);
    }
  }

  async exec(sql: string): Promise<void> {
    // A multi-statement script answers with one result per statement; none is wanted.
    await this.pool.query(sql).catch(wrap);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(wrap);
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <R extends Row>(sql: string, params?: readonly unknown[]) => {
          const res = await client.query<R>(sql, params as unknown[] | undefined).catch(wrap);
          return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
        },
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(wrap);
    const k = lockKey(key).toString();
    try {
      await client.query('SELECT pg_advisory_lock($1::bigint)', [k]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [k]);
      }
    } finally {
      client.release();
    }
  }

  async tryWithLock<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    const client = await this.pool.connect().catch(wrap);
    const k = lockKey(key).toString();
    try {
      const res = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1::bigint) AS ok',
        [k],
      );
      if (!res.rows[0]?.ok) return undefined;
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [k]);
      }
    } finally {
      client.release();
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
    await this.pool.end();
  }
}
