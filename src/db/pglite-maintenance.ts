// Upkeep of the embedded database, the work PostgreSQL's background
// processes do on a server. PGlite runs PostgreSQL in single-user mode, with
// neither autovacuum nor a checkpointer:
//
// - Dead row versions pile up for ever and every scan of a churning table
//   (executions, the sweep's UPDATE) grows slower: a sweep took 1.5 s after
//   some 20,000 executions. This job VACUUMs each table whose dead or newly
//   inserted rows pass autovacuum's thresholds, and ANALYZEs each whose
//   changed rows pass its analyze threshold.
// - A single-user backend never checkpoints on its own (the WAL-size trigger
//   only signals a checkpointer process), so the WAL grew by about 0.7 MB/s
//   at 200 executions/s with nothing ever removed: the data directory, each
//   backup and the replay at the next start grew with it. This job runs
//   CHECKPOINT once 256 MB of WAL have been written since the last one, or
//   5 minutes have passed with any written (checkpoint_timeout's default);
//   with wal_recycle off, the segments before it are removed. Each
//   checkpoint costs more WAL after it (full-page images): at 32 MB, every
//   3 s at saturation, they took 15% of the throughput.
//
// One table and one statement at a time: every request waits while a
// statement runs (PGlite runs one at a time), 50-75 ms for a pass over the
// execution tables. So a pass that falls due while the process is busy
// (its event loop more than 5% in use over the last look, about 100
// executions/s here) waits for a quieter look, for at most 5 minutes, after
// which it runs anyway: under a steady load it ran every 30 s, each time a
// stall in the middle of the load. ANALYZE samples 300 rows
// per unit of statistics target; here 3,000 (target 10), about 10 ms where
// the default 30,000 took 70-500 ms, and enough for the planner on tables
// read by key, status and time.
import type { Logger } from '../log.ts';
import { loopBusierThan } from '../loop-use.ts';
import type { Db } from './db.ts';

/** A table past a threshold: what it needs, and why. */
export type VacuumCandidate = {
  table: string;
  dead: number;
  inserted: number;
  modified: number;
  live: number;
  vacuum: boolean;
  analyze: boolean;
};

// autovacuum's defaults: vacuum when dead rows pass 50 + 20% of the table,
// and (PostgreSQL 13+) when inserts since the last vacuum pass 1,000 + 20%;
// analyze when rows changed since the last analyze pass 50 + 10%.
const deadBase = 50;
const insertBase = 1000;
const vacuumScale = 0.2;
const analyzeBase = 50;
const analyzeScale = 0.1;
/** default_statistics_target for this job's ANALYZE (PostgreSQL's default is 100). */
export const analyzeStatisticsTarget = 10;

export type PgliteMaintenanceOptions = {
  db: Db;
  logger: Logger;
  /** How often tables are vacuumed and analyzed; 0: no upkeep at all. */
  intervalMs: number;
  /** CHECKPOINT once this much WAL was written since the last one (default 256 MB). */
  checkpointWalBytes?: number;
  /** ... or once the last one is this old and any WAL was written since (default 5 min). */
  checkpointMaxAgeMs?: number;
  /**
   * Whether the process is too busy for a pass now; the default: its event
   * loop was more than 5% in use since the last look.
   */
  busy?: () => boolean;
  /** Longest a due pass waits for a quiet moment (default 5 min). */
  maxDeferMs?: number;
};

/** Where the WAL stands against the last checkpoint. */
export type WalState = { bytesSinceCheckpoint: number; checkpointAgeMs: number };

// A checkpoint writes a record of its own: less than this since the last one
// means nothing else was written.
const checkpointRecordBytes = 8192;

export class PgliteMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastVacuumAt = performance.now();
  /** When a due pass was first put off for load; undefined when none is waiting. */
  private deferredSince: number | undefined;
  private readonly busy: () => boolean;

  constructor(private readonly o: PgliteMaintenanceOptions) {
    this.busy = o.busy ?? loopBusierThan();
  }

  start(): void {
    if (this.o.intervalMs <= 0) return;
    // The WAL is looked at every 5 s (or each interval, when shorter).
    const every = Math.min(5000, this.o.intervalMs);
    this.timer ??= setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err: unknown) =>
          this.o.logger.warn({ err }, 'embedded database maintenance failed'),
        )
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  /** One look: a checkpoint if due, then the vacuum pass if due and the process is quiet enough. */
  async tick(): Promise<'ran' | 'deferred' | 'not due'> {
    // Asked on every look, so that it measures the last few seconds: asked
    // only when a pass is due, it averaged over the whole interval, and a
    // load that had just begun looked quiet.
    const busy = this.busy();
    await this.checkpointIfDue();
    const now = performance.now();
    if (now - this.lastVacuumAt < this.o.intervalMs) return 'not due';
    this.deferredSince ??= now;
    if (busy && now - this.deferredSince < (this.o.maxDeferMs ?? 300_000)) return 'deferred';
    this.deferredSince = undefined;
    this.lastVacuumAt = now;
    await this.vacuumPass();
    return 'ran';
  }

  async walState(): Promise<WalState> {
    const { rows } = await this.o.db.query<{ bytes: string; age: number }>(
      `SELECT pg_current_wal_insert_lsn() - redo_lsn AS bytes,
              (extract(epoch FROM clock_timestamp() - checkpoint_time) * 1000)::float8 AS age
         FROM pg_control_checkpoint()`,
    );
    return { bytesSinceCheckpoint: Number(rows[0]!.bytes), checkpointAgeMs: rows[0]!.age };
  }

  /** CHECKPOINT when enough WAL, or old enough WAL, waits for one; returns whether it ran. */
  async checkpointIfDue(): Promise<boolean> {
    const wal = await this.walState();
    const due =
      wal.bytesSinceCheckpoint >= (this.o.checkpointWalBytes ?? 256 * 1024 * 1024) ||
      (wal.bytesSinceCheckpoint > checkpointRecordBytes &&
        wal.checkpointAgeMs >= (this.o.checkpointMaxAgeMs ?? 300_000));
    if (!due) return false;
    const started = performance.now();
    await this.o.db.exec('CHECKPOINT');
    this.o.logger.debug(
      { walBytes: wal.bytesSinceCheckpoint, ms: Math.round(performance.now() - started) },
      'checkpoint',
    );
    return true;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Tables past a threshold of autovacuum's, most dead rows first. */
  async candidates(): Promise<VacuumCandidate[]> {
    // Single-user PostgreSQL flushes its statistics lazily; ask for it, and
    // the next statement reads them current.
    await this.o.db.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await this.o.db.query<{
      name: string;
      dead: string;
      inserted: string;
      modified: string;
      live: string;
      needs_vacuum: boolean;
      needs_analyze: boolean;
    }>(
      `SELECT name, dead, inserted, modified, live, needs_vacuum, needs_analyze
         FROM (SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS name,
                      n_dead_tup AS dead, n_ins_since_vacuum AS inserted,
                      n_mod_since_analyze AS modified, n_live_tup AS live,
                      n_dead_tup > $1::int + $3::float8 * n_live_tup
                        OR n_ins_since_vacuum > $2::int + $3::float8 * n_live_tup AS needs_vacuum,
                      n_mod_since_analyze > $4::int + $5::float8 * n_live_tup AS needs_analyze
                 FROM pg_stat_user_tables) t
        WHERE needs_vacuum OR needs_analyze
        ORDER BY dead DESC, name`,
      [deadBase, insertBase, vacuumScale, analyzeBase, analyzeScale],
    );
    return rows.map((r) => ({
      table: r.name,
      dead: Number(r.dead),
      inserted: Number(r.inserted),
      modified: Number(r.modified),
      live: Number(r.live),
      vacuum: r.needs_vacuum,
      analyze: r.needs_analyze,
    }));
  }

  /** One vacuum and analyze pass; returns the tables it vacuumed or analyzed. */
  async vacuumPass(): Promise<string[]> {
    const done: string[] = [];
    for (const c of await this.candidates()) {
      const started = performance.now();
      // VACUUM cannot run in a transaction block; each is its own statement.
      if (c.vacuum) await this.o.db.exec(`VACUUM ${c.table}`);
      const vacuumed = performance.now();
      if (c.analyze)
        await this.o.db.transaction(async (tx) => {
          await tx.query(`SET LOCAL default_statistics_target = ${analyzeStatisticsTarget}`);
          await tx.query(`ANALYZE ${c.table}`);
        });
      const { table, dead, inserted, modified } = c;
      this.o.logger.debug(
        {
          table,
          dead,
          inserted,
          modified,
          vacuumMs: c.vacuum ? Math.round(vacuumed - started) : undefined,
          analyzeMs: c.analyze ? Math.round(performance.now() - vacuumed) : undefined,
        },
        'vacuumed',
      );
      done.push(table);
    }
    return done;
  }
}
