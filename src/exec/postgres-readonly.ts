// query_postgres: one read-only query against a database named explicitly
// (never Warden's own). The layers, each enough to stop a write on its own
// terms: (1) the statement is parsed with PostgreSQL's grammar and must be a
// query made only of allowed node kinds, built-in functions, operators and
// types (sql-allowlist.ts); (2) it is sent through the extended protocol,
// where the server refuses more than one command; (3) it runs inside BEGIN
// READ ONLY after the snapshot is taken, always rolled back, connection
// closed; (4) the role it connects as should be made for it (`warden mcp ops
// --pg-role-sql`): no superuser, reads only, read-only by default, with a
// statement timeout. Rows come through a cursor, cap + 1 at most, so a
// query of millions of rows never loads them; a client-side timer cancels
// the backend (pg_cancel_backend from a second connection) and drops the
// connection if the server-side timeout did not fire.
import pg from 'pg';
import Cursor from 'pg-cursor';

import { OperationalError } from '../errors.ts';
import { checkSql } from './sql-allowlist.ts';

export type ReadOnlyQueryOptions = {
  url: string;
  /** Warden's own database (DATABASE_URL): a target that is the same database is refused. */
  wardenDatabaseUrl?: string;
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
      /** Rows returned (at most the cap). */
      rowCount: number;
      /** More rows were there than the cap; they were never fetched. */
      truncated: boolean;
    }
  | { ok: false; rule: string; reason: string };

function classify(err: unknown): { rule: string; reason: string } {
  const e = err as { code?: string; message?: string };
  const reason = e.message ?? String(err);
  if (e.code === '42601' && /multiple commands/.test(reason))
    return { rule: 'sql.multiple_statements', reason };
  if (e.code === '25006') return { rule: 'sql.read_only', reason };
  if (e.code === '57014') return { rule: 'sql.timeout', reason };
  if (e.code === '25001') return { rule: 'sql.transaction_control', reason };
  if (e.code === '42501') return { rule: 'sql.permission', reason };
  return { rule: 'sql.error', reason };
}

const identityQuery = `SELECT current_database() AS db,
  (SELECT system_identifier::text FROM pg_control_system()) AS system`;

/** Which database a connection reached: the cluster's system identifier and the database name. */
async function identity(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ db: string; system: string }>(identityQuery);
  return `${rows[0]!.system}/${rows[0]!.db}`;
}

const wardenIdentities = new Map<string, Promise<string>>();

/** Warden's own database identity, asked once per URL (a failed attempt is asked again next time). */
function wardenIdentity(url: string): Promise<string> {
  let found = wardenIdentities.get(url);
  if (!found) {
    found = (async () => {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
      c.on('error', () => {});
      await c.connect();
      try {
        return await identity(c);
      } finally {
        await c.end().catch(() => {});
      }
    })();
    found.catch(() => wardenIdentities.delete(url));
    wardenIdentities.set(url, found);
  }
  return found;
}

/** Cancels a running statement from a second connection (same role: no extra rights needed). */
async function cancelBackend(url: string, pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // The connection is dropped below either way.
  } finally {
    await c.end().catch(() => {});
  }
}

/** Closes the socket under a client whose statement never answered (end() would wait for it). */
function drop(client: pg.Client): void {
  (
    client as unknown as { connection: { stream: { destroy(): void } } }
  ).connection.stream.destroy();
}

function readRows(
  cursor: Cursor<Record<string, unknown>>,
  n: number,
): Promise<{ rows: Record<string, unknown>[]; columns: string[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => {
      if (err) reject(err);
      else resolve({ rows, columns: (result?.fields ?? []).map((f) => f.name) });
    });
  });
}

export async function queryReadOnly(
  sql: string,
  options: ReadOnlyQueryOptions,
): Promise<QueryOutcome> {
  const bad = await checkSql(sql);
  if (bad) return { ok: false, ...bad };
  const timeout = Math.max(100, Math.trunc(options.timeoutMs ?? 5000));
  const cap = Math.max(1, Math.trunc(options.rowCap ?? 200));
  let warden: string | undefined;
  if (options.wardenDatabaseUrl) {
    try {
      warden = await wardenIdentity(options.wardenDatabaseUrl);
    } catch (err) {
      return {
        ok: false,
        rule: 'sql.warden_database_unknown',
        reason: `cannot tell whether the target is Warden's own database (${(err as Error).message}); refused`,
      };
    }
  }
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
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    if (warden !== undefined && (await identity(client)) === warden)
      return {
        ok: false,
        rule: 'sql.warden_database',
        reason:
          "WARDEN_OPS_PG_URL points at Warden's own database; query_postgres reads other databases only",
      };
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
      .pid;
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${timeout}`);
    await client.query(`SET LOCAL lock_timeout = ${timeout}`);
    // Takes the snapshot: from here on the transaction cannot become read-write.
    await client.query('SELECT 1');
    // The server's timeout is the first line; this one holds when it does not.
    timer = setTimeout(() => {
      timedOut = true;
      void cancelBackend(options.url, pid).finally(() => drop(client));
    }, timeout + 1000);
    const cursor = client.query(new Cursor<Record<string, unknown>>(sql));
    try {
      const { rows, columns } = await readRows(cursor, cap + 1);
      return {
        ok: true,
        columns,
        rows: rows.slice(0, cap),
        rowCount: Math.min(rows.length, cap),
        truncated: rows.length > cap,
      };
    } catch (err) {
      if (timedOut)
        return {
          ok: false,
          rule: 'sql.timeout',
          reason: `no answer within ${timeout} ms; the statement was cancelled`,
        };
      return { ok: false, ...classify(err) };
    } finally {
      if (!timedOut) await cursor.close().catch(() => {});
    }
  } finally {
    clearTimeout(timer);
    if (timedOut) drop(client);
    else {
      await client.query('ROLLBACK').catch(() => {});
      await client.end().catch(() => {});
    }
  }
}
