// query_postgres against a real PostgreSQL: every attempt to write is
// refused (by the statement check, the extended protocol or the read-only
// transaction, each named) and the database is exactly as it was.
import { existsSync } from 'node:fs';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { queryReadOnly } from '../src/exec/postgres-readonly.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const marker = `/tmp/warden-pg-pwned-${process.pid}`;

const attempts: [string, string][] = [
  ['COMMIT; DROP TABLE accounts', 'sql.statement_type'],
  ['SELECT 1; DROP TABLE accounts', 'sql.multiple_statements'],
  ['SELECT 1; COMMIT; DROP TABLE accounts', 'sql.multiple_statements'],
  [
    '/* x */ SELECT 1;\nSET TRANSACTION READ WRITE;\nDELETE FROM accounts',
    'sql.multiple_statements',
  ],
  ['-- read only\nDROP TABLE accounts', 'sql.statement_type'],
  ['/* SELECT */ DELETE FROM accounts', 'sql.statement_type'],
  ['/* /* nested */ SELECT */ UPDATE accounts SET balance = 0', 'sql.statement_type'],
  ['SET TRANSACTION READ WRITE', 'sql.statement_type'],
  ['SET default_transaction_read_only = off', 'sql.statement_type'],
  ['COMMIT', 'sql.statement_type'],
  ['ROLLBACK; DELETE FROM accounts', 'sql.statement_type'],
  [`COPY accounts TO PROGRAM 'touch ${marker}'`, 'sql.statement_type'],
  ['DO $$ BEGIN DELETE FROM accounts; END $$', 'sql.statement_type'],
  ['CALL wipe()', 'sql.statement_type'],
  ['WITH d AS (DELETE FROM accounts RETURNING *) SELECT * FROM d', 'sql.read_only'],
  ['SELECT evil()', 'sql.read_only'],
  ['VALUES (evil())', 'sql.read_only'],
  ['SELECT evil() -- ; COMMIT', 'sql.read_only'],
  ["SELECT nextval('ids')", 'sql.read_only'],
  ['SELECT * FROM accounts FOR UPDATE', 'sql.read_only'],
  ['EXPLAIN ANALYZE DELETE FROM accounts', 'sql.read_only'],
  ['SELECT * INTO stolen FROM accounts', 'sql.read_only'],
  ["SELECT set_config('transaction_read_only', 'off', true)", 'sql.function'],
  ["SELECT lo_export(lo_from_bytea(0, 'x'), '/tmp/x')", 'sql.function'],
  ["SELECT pg_read_file('/etc/passwd')", 'sql.function'],
  ['SELECT pg_terminate_backend(pg_backend_pid())', 'sql.function'],
  ['SELECT $x$ ; DROP TABLE accounts $x$', 'sql.dollar_quote'],
  ['', 'sql.empty'],
];

describe('query_postgres', () => {
  let t: TestDatabase;
  let admin: pg.Client;
  const snapshot = async () =>
    (
      await admin.query<{ s: string }>(`SELECT concat_ws('|',
        (SELECT md5(string_agg(id || ':' || balance, ',' ORDER BY id)) FROM accounts),
        (SELECT last_value FROM ids),
        (SELECT count(*) FROM evil_log),
        (SELECT count(*) FROM pg_class WHERE relname = 'stolen'),
        (SELECT count(*) FROM pg_largeobject_metadata)) AS s`)
    ).rows[0]!.s;

  beforeAll(async () => {
    t = await createTestDatabase();
    admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    await admin.query(`
      CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
      INSERT INTO accounts SELECT g, g * 100 FROM generate_series(1, 5) g;
      CREATE SEQUENCE ids;
      SELECT nextval('ids');
      CREATE TABLE evil_log (at timestamptz);
      CREATE FUNCTION evil() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO evil_log VALUES (now()); DELETE FROM accounts; RETURN 1; END $$;
      CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM accounts $$;
    `);
  });
  afterAll(async () => {
    await admin?.end();
    await t?.drop();
  });

  it('reads', async () => {
    const out = await queryReadOnly('SELECT id, balance FROM accounts WHERE id <= 2 ORDER BY id', {
      url: t.url,
    });
    expect(out).toEqual({
      ok: true,
      columns: ['id', 'balance'],
      rows: [
        { id: 1, balance: 100 },
        { id: 2, balance: 200 },
      ],
      rowCount: 2,
      truncated: false,
    });
  });

  it('refuses every write attempt naming its rule and leaves the database unchanged', async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const [sql, rule] of attempts) {
      const out = await queryReadOnly(sql, { url: t.url });
      if (out.ok || out.rule !== rule)
        wrong.push(`${JSON.stringify(sql)} -> ${JSON.stringify(out).slice(0, 160)}`);
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect(existsSync(marker)).toBe(false);
  });

  it('caps the rows it returns', async () => {
    const out = await queryReadOnly('SELECT generate_series(1, 500) AS n', {
      url: t.url,
      rowCap: 10,
    });
    expect(out).toMatchObject({ ok: true, rowCount: 500, truncated: true });
    expect(out.ok && out.rows).toHaveLength(10);
  });

  it('stops a statement at its timeout', async () => {
    const out = await queryReadOnly('SELECT count(*) FROM generate_series(1, 1000000000)', {
      url: t.url,
      timeoutMs: 200,
    });
    expect(out).toMatchObject({ ok: false, rule: 'sql.timeout' });
  });
});
