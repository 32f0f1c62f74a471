// query_postgres: one statement, read only. The layers, any one of which
// refuses a write: (1) the statement is sent through the extended protocol,
// where PostgreSQL itself refuses more than one command, so `COMMIT; DROP`
// cannot chain; (2) it runs inside BEGIN READ ONLY after a snapshot is
// taken, so SET TRANSACTION READ WRITE is refused too; (3) the transaction
// always ends in ROLLBACK and the connection is closed; (4) the first
// keyword (after comments) must start a query, and functions that reach
// outside the transaction (files, other connections, signals) are refused.
// Use a role with read rights only: that is the layer PostgreSQL enforces.
import pg from 'pg';

import { OperationalError } from '../errors.ts';

export type ReadOnlyQueryOptions = {
  url: string;
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 200 */
  rowCap?: number;
};

export type QueryOutcome =
  | {
      ok: true;
      columns: string[];
      rows: Record<string, unknown>[];
      rowCount: number;
      truncated: boolean;
    }
  | { ok: false; rule: string; reason: string };

const allowedFirstWords = new Set(['select', 'with', 'values', 'table', 'show', 'explain']);

// Functions with effects a read-only transaction does not stop.
const refusedFunctions =
  /\b(lo_import|lo_export|lo_from_bytea|lo_put|lo_unlink|pg_read_file|pg_read_binary_file|pg_ls_\w+|pg_stat_file|pg_file_\w+|dblink\w*|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|pg_switch_wal|pg_create_\w+|pg_drop_\w+|pg_replication_\w+|pg_logical_\w+|pg_advisory_\w+|pg_try_advisory_\w+|pg_stat_reset\w*|set_config|pg_notify|query_to_xml\w*|pg_sleep\w*)\s*\(/i;

/** Removes SQL comments (nested block comments too) and string contents, for keyword checks. */
export function stripSql(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const two = sql.slice(i, i + 2);
    if (two === '--') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? sql.length : nl;
      out += ' ';
    } else if (two === '/*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
    } else if (sql[i] === "'") {
      const end = sql.indexOf("'", i + 1);
      i = end === -1 ? sql.length : end + 1;
      out += "''";
    } else {
      out += sql[i];
      i++;
    }
  }
  return out;
}

export function checkStatement(sql: unknown): { rule: string; reason: string } | undefined {
  if (typeof sql !== 'string' || sql.trim() === '')
    return { rule: 'sql.empty', reason: 'no statement' };
  if (sql.length > 20_000) return { rule: 'sql.too_long', reason: 'longer than 20000 characters' };
  if (sql.includes('\0')) return { rule: 'sql.nul', reason: 'NUL byte' };
  const bare = stripSql(sql);
  const first = /^[\s(]*([A-Za-z]+)/.exec(bare)?.[1]?.toLowerCase();
  if (!first || !allowedFirstWords.has(first))
    return {
      rule: 'sql.statement_type',
      reason: `only SELECT, WITH, VALUES, TABLE, SHOW and EXPLAIN run; got ${first ?? 'nothing'}`,
    };
  if (/\$\w*\$/.test(bare))
    return { rule: 'sql.dollar_quote', reason: 'dollar-quoted strings are not accepted' };
  const fn = refusedFunctions.exec(bare);
  if (fn) return { rule: 'sql.function', reason: `function ${fn[1]} is refused` };
  return undefined;
}

function classify(err: unknown): { rule: string; reason: string } {
  const e = err as { code?: string; message?: string };
  const reason = e.message ?? String(err);
  if (e.code === '42601' && /multiple commands/.test(reason))
    return { rule: 'sql.multiple_statements', reason };
  if (e.code === '25006') return { rule: 'sql.read_only', reason };
  if (e.code === '57014') return { rule: 'sql.timeout', reason };
  if (e.code === '25001') return { rule: 'sql.transaction_control', reason };
  return { rule: 'sql.error', reason };
}

export async function queryReadOnly(
  sql: string,
  options: ReadOnlyQueryOptions,
): Promise<QueryOutcome> {
  const bad = checkStatement(sql);
  if (bad) return { ok: false, ...bad };
  const timeout = Math.max(100, Math.trunc(options.timeoutMs ?? 5000));
  const cap = options.rowCap ?? 200;
  const client = new pg.Client({
    connectionString: options.url,
    application_name: 'warden-query-postgres',
    statement_timeout: timeout,
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new OperationalError(
      'postgres_unavailable',
      `query_postgres cannot connect: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    // Takes the snapshot: from here on the transaction cannot become read-write.
    await client.query('SELECT 1');
    try {
      const res = await client.query({
        text: sql,
        values: [],
        queryMode: 'extended',
        rowMode: undefined,
      } as pg.QueryConfig);
      const rows = (res.rows ?? []) as Record<string, unknown>[];
      return {
        ok: true,
        columns: (res.fields ?? []).map((f) => f.name),
        rows: rows.slice(0, cap),
        rowCount: rows.length,
        truncated: rows.length > cap,
      };
    } catch (err) {
      return { ok: false, ...classify(err) };
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
  }
}
