// The embedded database's upkeep: PGlite has neither autovacuum nor a
// checkpointer, so this job finds the tables whose dead, new or changed rows
// pass autovacuum's thresholds and vacuums or analyzes them (ANALYZE on a
// small sample), leaving a table with little churn alone, and checkpoints
// once enough WAL was written, after which the older segments are gone.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { PgliteDb } from '../src/db/pglite-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { analyzeStatisticsTarget, PgliteMaintenance } from '../src/db/pglite-maintenance.ts';
import { createLogger } from '../src/log.ts';

let db: PgliteDb;
const logger = createLogger({ level: 'silent' });

async function deadRows(table: string): Promise<number> {
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ dead: string }>(
    'SELECT n_dead_tup AS dead FROM pg_stat_user_tables WHERE relname = $1',
    [table],
  );
  return Number(rows[0]!.dead);
}

beforeEach(async () => {
  db = await PgliteDb.open();
  await db.exec(`
    CREATE TABLE churn (id int PRIMARY KEY, n int NOT NULL);
    INSERT INTO churn SELECT g, 0 FROM generate_series(1, 500) g;
    CREATE TABLE calm (id int PRIMARY KEY, n int NOT NULL);
    INSERT INTO calm SELECT g, 0 FROM generate_series(1, 500) g;`);
  // VACUUM refuses to run in a multi-statement script (a transaction block).
  // Both start vacuumed and analyzed, with the inserts' statistics flushed
  // first (single-user PostgreSQL flushes them lazily): no threshold passed.
  await db.query('SELECT pg_stat_force_next_flush()');
  await db.query('SELECT 1');
  await db.exec('VACUUM (ANALYZE) churn');
  await db.exec('VACUUM (ANALYZE) calm');
});

afterEach(() => db.close());

describe('PgliteMaintenance', () => {
  it('vacuums a table whose dead rows pass the threshold, and only that one', async () => {
    // Up to 3 x 500 dead row versions in churn (an update may prune some
    // as it goes); 10 in calm, under 50 + 20% of 500.
    for (let i = 0; i < 3; i++) await db.exec('UPDATE churn SET n = n + 1');
    await db.exec('UPDATE calm SET n = 1 WHERE id <= 10');
    const dead = await deadRows('churn');
    expect(dead).toBeGreaterThan(1000);

    const vacuum = new PgliteMaintenance({ db, logger, intervalMs: 0 });
    const candidates = await vacuum.candidates();
    expect(candidates.map((c) => c.table)).toEqual(['public.churn']);
    expect(candidates[0]!.dead).toBe(dead);

    expect(await vacuum.vacuumPass()).toEqual(['public.churn']);
    expect(await deadRows('churn')).toBe(0);
    expect(await deadRows('calm')).toBe(10);
    // Nothing left past a threshold: the next pass does nothing.
    expect(await vacuum.vacuumPass()).toEqual([]);
  });

  it('vacuums an insert-only table once enough new rows arrived', async () => {
    await db.exec('INSERT INTO calm SELECT g, 0 FROM generate_series(501, 2000) g');
    const vacuum = new PgliteMaintenance({ db, logger, intervalMs: 0 });
    const [c, ...rest] = await vacuum.candidates();
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ table: 'public.calm', dead: 0, vacuum: true, analyze: true });
    expect(c!.inserted).toBeGreaterThanOrEqual(1500);
    expect(await vacuum.vacuumPass()).toEqual(['public.calm']);
    expect(await vacuum.candidates()).toEqual([]);
  });

  it('analyzes a table whose changed rows pass the analyze threshold only, on a small sample', async () => {
    // 300 new rows in 500: under the vacuum threshold (1,000 + 20%), over
    // the analyze threshold (50 + 10%).
    await db.exec('INSERT INTO calm SELECT g, 0 FROM generate_series(501, 800) g');
    const counts = async () =>
      (
        await db.query<{ vacuums: string; analyzes: string }>(
          `SELECT vacuum_count AS vacuums, analyze_count AS analyzes
             FROM pg_stat_user_tables WHERE relname = 'calm'`,
        )
      ).rows[0]!;
    const before = await counts();
    const vacuum = new PgliteMaintenance({ db, logger, intervalMs: 0 });
    expect(await vacuum.candidates()).toEqual([
      expect.objectContaining({ table: 'public.calm', vacuum: false, analyze: true }),
    ]);
    expect(await vacuum.vacuumPass()).toEqual(['public.calm']);
    await db.query('SELECT pg_stat_force_next_flush()');
    const after = await counts();
    expect(Number(after.vacuums)).toBe(Number(before.vacuums));
    expect(Number(after.analyzes)).toBe(Number(before.analyzes) + 1);
    // 800 distinct ids: the default target (100) keeps 101 histogram bounds;
    // this job's keeps at most target + 1.
    const { rows } = await db.query<{ bounds: number }>(
      `SELECT cardinality(histogram_bounds::text::int[]) AS bounds
         FROM pg_stats WHERE tablename = 'calm' AND attname = 'id'`,
    );
    expect(rows[0]!.bounds).toBe(analyzeStatisticsTarget + 1);
    // The setting was the transaction's own.
    const target = await db.query<{ t: string }>(
      "SELECT current_setting('default_statistics_target') AS t",
    );
    expect(target.rows[0]!.t).toBe('100');
  });

  it("leaves the payload columns of executions and steps out of ANALYZE's sample", async () => {
    await migrate(db);
    const { rows } = await db.query<{ col: string; target: number | null }>(
      `SELECT attrelid::regclass || '.' || attname AS col, attstattarget AS target
         FROM pg_attribute
        WHERE attrelid IN ('executions'::regclass, 'execution_steps'::regclass)
          AND attnum > 0 AND NOT attisdropped AND atttypid = 'jsonb'::regtype
        ORDER BY 1`,
    );
    expect(rows).toEqual(
      [
        'execution_steps.error',
        'execution_steps.input',
        'execution_steps.output',
        'executions.error',
        'executions.result',
        'executions.trigger_data',
      ].map((col) => ({ col, target: 0 })),
    );
  });

  it('checkpoints once enough WAL was written (here 32 MB), and the segments before it are removed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-checkpoint-'));
    const disk = await PgliteDb.open({ dataDir });
    try {
      const segments = () =>
        readdirSync(join(dataDir, 'pg_wal')).filter((f) => /^[0-9A-F]{24}$/.test(f)).length;
      const m = new PgliteMaintenance({
        db: disk,
        logger,
        intervalMs: 0,
        checkpointWalBytes: 32 * 1024 * 1024,
      });
      await disk.exec('CREATE TABLE big (id int, v text)');
      await disk.exec('CHECKPOINT');
      // About 20 MB of WAL: under the threshold, nothing happens.
      await disk.exec(
        "INSERT INTO big SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g",
      );
      expect((await m.walState()).bytesSinceCheckpoint).toBeGreaterThan(16 * 1024 * 1024);
      expect(await m.checkpointIfDue()).toBe(false);
      // About 40 MB: past it.
      await disk.exec(
        "INSERT INTO big SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g",
      );
      const before = segments();
      expect(before).toBeGreaterThanOrEqual(3);
      expect(await m.checkpointIfDue()).toBe(true);
      expect((await m.walState()).bytesSinceCheckpoint).toBeLessThan(8192);
      expect(segments()).toBeLessThanOrEqual(2);
      expect(await m.checkpointIfDue()).toBe(false);
    } finally {
      await disk.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('checkpoints a little WAL once the last checkpoint is old enough, and no WAL never', async () => {
    const m = new PgliteMaintenance({ db, logger, intervalMs: 0, checkpointMaxAgeMs: 0 });
    await db.exec('CHECKPOINT');
    expect(await m.checkpointIfDue()).toBe(false);
    await db.exec('UPDATE calm SET n = n + 1');
    expect(await m.checkpointIfDue()).toBe(true);
    const young = new PgliteMaintenance({ db, logger, intervalMs: 0 });
    await db.exec('UPDATE calm SET n = n + 1');
    expect(await young.checkpointIfDue()).toBe(false);
  });

  it('runs on its interval once started, and stop() waits for a pass in progress', async () => {
    for (let i = 0; i < 2; i++) await db.exec('UPDATE churn SET n = n + 1');
    const vacuum = new PgliteMaintenance({ db, logger, intervalMs: 20, busy: () => false });
    vacuum.start();
    try {
      await vi.waitFor(async () => expect(await deadRows('churn')).toBe(0), { timeout: 5000 });
    } finally {
      await vacuum.stop();
    }
  });

  it('puts a due pass off while the process is busy, for at most its limit', async () => {
    for (let i = 0; i < 2; i++) await db.exec('UPDATE churn SET n = n + 1');
    let busy = true;
    const m = new PgliteMaintenance({
      db,
      logger,
      intervalMs: 1,
      busy: () => busy,
      maxDeferMs: 300,
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(await m.tick()).toBe('deferred');
    expect(await deadRows('churn')).toBeGreaterThan(500);
    // Still busy, but waiting longer than the limit: it runs anyway.
    await new Promise((r) => setTimeout(r, 350));
    expect(await m.tick()).toBe('ran');
    expect(await deadRows('churn')).toBe(0);
    // A quiet process runs a due pass at once.
    for (let i = 0; i < 2; i++) await db.exec('UPDATE churn SET n = n + 1');
    busy = false;
    await new Promise((r) => setTimeout(r, 5));
    expect(await m.tick()).toBe('ran');
    expect(await deadRows('churn')).toBe(0);
  });

  it('does nothing when its interval is 0', async () => {
    for (let i = 0; i < 2; i++) await db.exec('UPDATE churn SET n = n + 1');
    const vacuum = new PgliteMaintenance({ db, logger, intervalMs: 0 });
    vacuum.start();
    await new Promise((r) => setTimeout(r, 100));
    await vacuum.stop();
    expect(await deadRows('churn')).toBeGreaterThan(500);
  });
});
