import { describe, expect, it } from 'vitest';

import { checkSql, wardenTableNames } from './sql-allowlist.ts';

describe('checkSql', () => {
  it.each([
    'SELECT 1',
    'SELECT id, balance FROM accounts WHERE id = 1 ORDER BY id LIMIT 5',
    "SELECT date_trunc('hour', now()) AS h, count(*) FROM events GROUP BY 1 HAVING count(*) > 2",
    'WITH t AS (SELECT 1 AS a) SELECT sum(a) OVER (ORDER BY a) FROM t',
    'VALUES (1), (2)',
    'TABLE accounts',
    'EXPLAIN (FORMAT JSON) SELECT * FROM accounts',
    'SELECT 1 AS "--", 2',
    "SELECT CASE WHEN x IS NULL THEN 'none' ELSE upper(x) END FROM t",
    "SELECT x::int, CAST(y AS text), z::timestamptz FROM t WHERE name LIKE 'a%' AND n BETWEEN 1 AND 2",
    'SELECT pg_catalog.lower(name) FROM t',
    'SELECT * FROM generate_series(1, 10) g',
    'SELECT 1 UNION SELECT 2 EXCEPT SELECT 3',
    'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r',
    'SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.id = t.id) x',
    "SELECT data->>'a', data #> '{b,c}' FROM t WHERE data ? 'a' AND name ILIKE 'x%'",
    "SELECT now() AT TIME ZONE 'UTC', EXTRACT(epoch FROM now()), SUBSTRING('abc' FROM 1 FOR 2)",
    'SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), count(*) FILTER (WHERE x > 1) FROM t',
    "SELECT 'a' SIMILAR TO 'b', (DATE '2020-01-01', DATE '2020-02-01') OVERLAPS (now(), now())",
  ])('lets %s through', async (sql) => {
    expect(await checkSql(sql)).toBeUndefined();
  });

  it.each([
    ['SELECT "dblink_exec"(1)', 'sql.function'],
    ['SELECT U&"pg_cancel\\005fbackend"(1)', 'sql.function'],
    ['SELECT 1 AS "--", pg_sleep(1)', 'sql.function'],
    ['SELECT myschema.lower(x) FROM t', 'sql.function'],
    ["SELECT 'f'::regproc", 'sql.type'],
    ['SELECT 1; SELECT 2', 'sql.multiple_statements'],
    ['DELETE FROM t', 'sql.statement_type'],
    ['WITH d AS (DELETE FROM t RETURNING 1) SELECT 1', 'sql.data_modifying_cte'],
    ['SELECT * INTO x FROM t', 'sql.select_into'],
    ['SELECT * FROM t FOR UPDATE', 'sql.locking'],
    ['EXPLAIN ANALYZE SELECT 1', 'sql.explain_analyze'],
    ['SELECT * FROM api_keys', 'sql.warden_table'],
    ['SELECT * FROM pg_authid', 'sql.relation'],
    ['SELECT $1', 'sql.parameter'],
    ['SELECT 1 OPERATOR(myschema.+) 1', 'sql.operator'],
    ['SELEC 1', 'sql.syntax'],
    ['', 'sql.empty'],
  ])('refuses %s as %s', async (sql, rule) => {
    expect(await checkSql(sql)).toMatchObject({ rule });
  });

  it("knows Warden's tables from its migrations", () => {
    const names = wardenTableNames();
    for (const t of ['api_keys', 'users', 'sessions', 'credentials', 'exec_audit'])
      expect(names.has(t), t).toBe(true);
  });
});
