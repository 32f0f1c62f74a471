// The embedded database on its own thread (PgliteThreadDb): what crosses
// between the threads must arrive as the in-process adapter gives it —
// PostgreSQL's error fields, types, a transaction's hold on the one
// connection — and the thread must neither keep an idle process alive nor
// let a process end while an answer is due. The Db contract itself runs in
// db.integration.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { PgliteThreadDb } from '../src/db/pglite-thread-db.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('PGlite on its own thread', () => {
  let db: PgliteThreadDb;

  beforeAll(async () => {
    db = await PgliteThreadDb.open();
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, doc jsonb, at timestamptz, raw bytea)`);
  });
  afterAll(() => db.close());
  afterEach(() => db.query('DELETE FROM t'));

  it("rejects with PostgreSQL's error fields and the caller's stack", async () => {
    await db.query('INSERT INTO t (id) VALUES (1)');
    const err = (await db
      .query('INSERT INTO t (id) VALUES (1)')
      .catch((e: unknown) => e)) as Error & Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/duplicate key value violates unique constraint "t_pkey"/);
    expect(err.code).toBe('23505');
    expect(err.constraint).toBe('t_pkey');
    expect(err.table).toBe('t');
    expect(err.stack).toContain('pglite-thread.integration.test.ts');
  });

  it('carries parameters and results of every kind across', async () => {
    class Tagged {
      constructor(private readonly v: number) {}
      toJSON() {
        return { tagged: this.v };
      }
    }
    const at = new Date('2026-01-02T03:04:05.678Z');
    await db.query('INSERT INTO t VALUES ($1, $2, $3, $4)', [
      2,
      new Tagged(7),
      at,
      new Uint8Array([0, 1, 255]),
    ]);
    await db.query('INSERT INTO t (id, doc) VALUES ($1, $2)', [3, { plain: [1, 'two'] }]);
    const { rows } = await db.query<{
      id: number;
      doc: unknown;
      at: Date | null;
      raw: Uint8Array | null;
    }>('SELECT id, doc, at, raw FROM t ORDER BY id');
    expect(rows[0]!.doc).toEqual({ tagged: 7 });
    expect(rows[0]!.at).toBeInstanceOf(Date);
    expect(rows[0]!.at!.toISOString()).toBe(at.toISOString());
    expect([...rows[0]!.raw!]).toEqual([0, 1, 255]);
    expect(rows[1]!.doc).toEqual({ plain: [1, 'two'] });
  });

  it('holds the connection for a transaction: other statements wait for its end', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async (q) => {
      await q.query('INSERT INTO t (id) VALUES (10)');
      order.push('tx wrote');
      await held;
      order.push('tx ends');
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => {
      order.push('outside read');
      return r.rows[0]!.n;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['tx wrote']);
    release();
    await tx;
    expect(await outside).toBe(1);
    expect(order).toEqual(['tx wrote', 'tx ends', 'outside read']);
  });

  it('rolls back a transaction whose function throws, and gives back its error', async () => {
    const boom = new Error('boom');
    await expect(
      db.transaction(async (q) => {
        await q.query('INSERT INTO t (id) VALUES (20)');
        throw boom;
      }),
    ).rejects.toBe(boom);
    // A failing statement inside the transaction fails the transaction with PostgreSQL's error.
    const err = (await db
      .transaction(async (q) => {
        await q.query('INSERT INTO t (id) VALUES (21)');
        await q.query('INSERT INTO t (id) VALUES (21)');
      })
      .catch((e: unknown) => e)) as { code?: string };
    expect(err.code).toBe('23505');
    const { rows } = await db.query('SELECT id FROM t');
    expect(rows).toEqual([]);
    // The connection is free again.
    await db.transaction((q) => q.query('INSERT INTO t (id) VALUES (22)'));
    expect((await db.query('SELECT id FROM t')).rows).toEqual([{ id: 22 }]);
  });

  it('refuses statements once closed, saying so', async () => {
    const other = await PgliteThreadDb.open();
    await other.close();
    await expect(other.query('SELECT 1')).rejects.toThrow(/embedded database is closed/);
  });
});

describe('PGlite on its own thread, in a directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-pglite-thread-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('snapshots the data directory for a backup', async () => {
    const db = await PgliteThreadDb.open({ dataDir: join(dir, 'db') });
    try {
      await db.exec('CREATE TABLE s (n int); INSERT INTO s VALUES (1)');
      const snap = await db.snapshot();
      expect(snap.kind).toBe('tree');
      if (snap.kind !== 'tree') return;
      const version = snap.tree.find((e) => e.name === '/PG_VERSION');
      expect(Buffer.from(version!.data).toString().trim()).toMatch(/^\d+$/);
      expect(snap.tree.some((e) => e.dir && e.name === '/base')).toBe(true);
    } finally {
      await db.close();
    }
  });

  it("rejects the open of a directory that is not a database with PGlite's reason", async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'PG_VERSION'), 'not a version\n');
    await expect(PgliteThreadDb.open({ dataDir: bad })).rejects.toThrow();
  });
});

describe('the thread and the life of the process', () => {
  const script = (body: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'warden-thread-life-')), 'run.mts');
    writeFileSync(
      file,
      `import { PgliteThreadDb } from ${JSON.stringify(join(root, 'src/db/pglite-thread-db.ts'))};\n${body}`,
    );
    return spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it('keeps the process alive while an answer is due, and not once it is idle', () => {
    // No close(): the process must still get its answer, then end by itself.
    const res = script(`
      const db = await PgliteThreadDb.open();
      const { rows } = await db.query('SELECT 41 + 1 AS n');
      console.log('answer', rows[0].n);
    `);
    expect(res.error).toBeUndefined();
    expect(res.stdout).toContain('answer 42');
    expect(res.status).toBe(0);
  });
});
