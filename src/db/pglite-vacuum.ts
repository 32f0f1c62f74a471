// Vacuum for the embedded database. PGlite runs PostgreSQL in single-user
// mode: there is no autovacuum launcher, so dead row versions pile up for
// ever and every scan of a churning table (executions, the sweep's UPDATE)
// grows slower: a sweep took 1.5 s after some 20,000 executions. This job
// does what autovacuum would: it reads the table statistics, VACUUMs each
// table whose dead or newly inserted rows pass autovacuum's thresholds and
// ANALYZEs each whose changed rows pass its analyze threshold, one table and
// one statement at a time. PGlite runs in Warden's own thread, so every
// request waits while a statement runs: ANALYZE samples 300 rows per unit
// of statistics target, and here samples 3,000 (target 10), about 10 ms
// where the default 30,000 took 70-500 ms; that is enough for the planner on
// tables read by key, status and time.
import type { Logger } from '../log.ts';
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

export type PgliteVacuumOptions = {
  db: Db;
  logger: Logger;
  intervalMs: number;
};

export class PgliteVacuum {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly o: PgliteVacuumOptions) {}

  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.timer ??= setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err: unknown) => this.o.logger.warn({ err }, 'embedded database vacuum failed'))
        .finally(() => (this.running = undefined));
    }, this.o.intervalMs);
    this.timer.unref();
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

  /** One pass; returns the tables it vacuumed or analyzed. */
  async runOnce(): Promise<string[]> {
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
