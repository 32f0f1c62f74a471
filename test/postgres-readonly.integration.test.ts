// query_postgres against a real PostgreSQL, connected as the role that
// `warden mcp ops --pg-role-sql` makes: every attempt of the attack corpus
// (test/fixtures/sql-attack-corpus.yaml) is refused with its named rule and
// the database is exactly as it was; plain queries still work; rows past
// the cap are never fetched; Warden's own database is refused as a target.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createConnection, createServer } from 'node:net';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { queryRoleSql } from '../src/exec/pg-query-role.ts';
import { queryReadOnly } from '../src/exec/postgres-readonly.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase, testPostgresUrl } from './helpers/servers.ts';
import { waitFor } from './helpers/wait.ts';

const marker = `/tmp/warden-pg-pwned-${process.pid}`;

/**
 * A proxy to PostgreSQL that, on a connection whose client sends `marker`,
 * stops passing the server's answers on: a statement that never answers,
 * whatever the server-side timeout does.
 */
async function stallingProxy(target: URL, marker: string) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    let stalled = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d: Buffer) => {
      if (d.includes(marker)) stalled = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!stalled) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const corpus = z
  .array(z.object({ rule: z.string(), sql: z.string() }))
  .parse(
    parseYaml(readFileSync(new URL('./fixtures/sql-attack-corpus.yaml', import.meta.url), 'utf8')),
  )
  .map((a) => ({ ...a, sql: a.sql.replaceAll('MARKER', marker) }));

describe('query_postgres', () => {
  let t: TestDatabase;
  let admin: pg.Client;
  let url: string;
  const role = `warden_query_t${randomBytes(5).toString('hex')}`;
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
      CREATE FUNCTION evil_row(a accounts) RETURNS int LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO evil_log VALUES (now()); RETURN 1; END $$;
      CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM accounts $$;
    `);
    const password = randomBytes(12).toString('hex');
    await admin.query(queryRoleSql({ role, password, timeoutMs: 1000 }));
    const u = new URL(t.url);
    u.username = role;
    u.password = password;
    url = u.toString();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.drop();
    const c = new pg.Client({ connectionString: testPostgresUrl });
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS ${role}`).finally(() => c.end());
  });

  it('the role it runs as is no superuser and reads only', async () => {
    const { rows } = await admin.query<{ super: boolean; ro: string[] }>(
      `SELECT rolsuper AS super, rolconfig AS ro FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    expect(rows[0]!.super).toBe(false);
    expect(rows[0]!.ro).toContain('default_transaction_read_only=on');
  });

  it('reads: queries, CTEs, VALUES, TABLE, EXPLAIN and the allowed built-ins', async () => {
    expect(
      await queryReadOnly('SELECT id, balance FROM accounts WHERE id <= 2 ORDER BY id', { url }),
    ).toEqual({
      ok: true,
      columns: ['id', 'balance'],
      rows: [
        { id: 1, balance: 100 },
        { id: 2, balance: 200 },
      ],
      rowCount: 2,
      truncated: false,
    });
    const allowed: [string, unknown][] = [
      [
        'WITH t AS (SELECT * FROM accounts) SELECT count(*)::int AS n, sum(balance)::int AS s, max(balance) AS m FROM t',
        [{ n: 5, s: 1500, m: 500 }],
      ],
      [
        "VALUES (1, 'a'), (2, 'b')",
        [
          { column1: 1, column2: 'a' },
          { column1: 2, column2: 'b' },
        ],
      ],
      ['TABLE accounts LIMIT 1', [{ id: 1, balance: 100 }]],
      ['SELECT 1 AS "--", 2 AS b', [{ '--': 1, b: 2 }]],
      [
        "SELECT lower('ABC') AS l, upper('x') AS u, coalesce(NULL, 3) AS c, date_trunc('day', timestamp '2026-01-02 03:04') AS d",
        [{ l: 'abc', u: 'X', c: 3, d: new Date(2026, 0, 2) }],
      ],
      [
        "SELECT pg_size_pretty(1048576::bigint) AS p, length('abcd') AS n, id FROM accounts WHERE balance BETWEEN 150 AND 250",
        [{ p: '1024 kB', n: 4, id: 2 }],
      ],
    ];
    for (const [sql, rows] of allowed) {
      const out = await queryReadOnly(sql, { url });
      expect(out, sql).toMatchObject({ ok: true, rows });
    }
    const plan = await queryReadOnly('EXPLAIN SELECT * FROM accounts WHERE id = 1', { url });
    expect(plan.ok && JSON.stringify(plan.rows)).toMatch(/Scan/);
    const facts = await queryReadOnly(
      "SELECT now() > now() - interval '1 day' AS ok, pg_database_size(current_database()) > 0 AS big",
      { url },
    );
    expect(facts).toMatchObject({ ok: true, rows: [{ ok: true, big: true }] });
  });

  it(`refuses every attempt of the attack corpus (${corpus.length}) by its named rule`, async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    const before = await snapshot();
    const byRule: Record<string, number> = {};
    const wrong: string[] = [];
    for (const { sql, rule } of corpus) {
      const out = await queryReadOnly(sql, { url, timeoutMs: 1000 });
      if (out.ok || out.rule !== rule)
        wrong.push(`${JSON.stringify(sql)} -> ${JSON.stringify(out).slice(0, 200)}`);
      else byRule[rule] = (byRule[rule] ?? 0) + 1;
    }
    console.log(
      `sql corpus: ${corpus.length} attempts, ${corpus.length - wrong.length} refused as expected, ${wrong.length} not`,
    );
    for (const [rule, n] of Object.entries(byRule).sort()) console.log(`  ${rule}: ${n}`);
    expect(wrong).toEqual([]);
    expect(await snapshot()).toBe(before);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it('fetches at most cap + 1 rows of a 2M-row query through a cursor', async () => {
    const heap = () => process.memoryUsage().heapUsed;
    const start = heap();
    const out = await queryReadOnly(
      "SELECT g AS n, repeat('x', 200) AS pad FROM generate_series(1, 2000000) g",
      { url, rowCap: 10, timeoutMs: 20_000 },
    );
    expect(out).toMatchObject({ ok: true, rowCount: 10, truncated: true });
    expect(out.ok && out.rows.map((r) => r.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // All 2M rows held at once would take over 500 MB.
    expect(heap() - start).toBeLessThan(100 * 1024 * 1024);
    const exact = await queryReadOnly('SELECT generate_series(1, 10) AS n', { url, rowCap: 10 });
    expect(exact).toMatchObject({ ok: true, rowCount: 10, truncated: false });
  });

  it("refuses Warden's own database as the target, however it is spelled", async () => {
    for (const target of [t.url, t.url.replace('127.0.0.1', 'localhost'), url]) {
      const out = await queryReadOnly('SELECT 1', { url: target, wardenDatabaseUrl: t.url });
      expect(out).toMatchObject({ ok: false, rule: 'sql.warden_database' });
    }
    // Another database on the same server is fine.
    const other = await queryReadOnly('SELECT 1 AS one', {
      url,
      wardenDatabaseUrl: testPostgresUrl,
    });
    expect(other).toMatchObject({ ok: true, rows: [{ one: 1 }] });
  });

  it('gives up on a statement that never answers: the client-side timer cancels and drops it', async () => {
    const marker = `stall_${randomBytes(4).toString('hex')}`;
    const proxy = await stallingProxy(new URL(url), marker);
    try {
      const via = new URL(url);
      via.port = String(proxy.port);
      const out = await queryReadOnly(`SELECT '${marker}' AS m`, {
        url: via.toString(),
        timeoutMs: 200,
      });
      expect(out).toMatchObject({ ok: false, rule: 'sql.timeout', reason: /cancelled/ });
      // Its backend does not linger.
      await waitFor(
        async () =>
          (
            await admin.query(
              `SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND query LIKE $2`,
              [role, `%${marker}%`],
            )
          ).rowCount === 0,
        'the stalled backend to end',
      );
    } finally {
      await proxy.close();
    }
  });
});
