// Vacuum for the embedded database. PGlite runs PostgreSQL in single-user
// mode: there is no autovacuum launcher, so dead row versions pile up for
// ever and every scan of a churning table (executions, the sweep's UPDATE)
// grows slower: a sweep took 1.5 s after some 20,000 executions. This job
// does what autovacuum would: it reads the table statistics, and runs
// VACUUM (ANALYZE) on each table whose dead or newly inserted rows pass
// autovacuum's thresholds, one table at a time so no statement holds the
// single connection long.
import type { Logger } from '../log.ts';
import type { Db } from './db.ts';

/** A table past a threshold, and why. */
export type VacuumCandidate = { table: string; dead: number; inserted: number; live: number };

// autovacuum's defaults: vacuum when dead rows pass 50 + 20% of the table,
// and (PostgreSQL 13+) when inserts since the last vacuum pass 1,000 + 20%.
const deadBase = 50;
const insertBase = 1000;
const scale = 0.2;

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

  /** Tables past autovacuum's thresholds, most dead rows first. */
  async candidates(): Promise<VacuumCandidate[]> {
    // Single-user PostgreSQL flushes its statistics lazily; ask for it, and
    // the next statement reads them current.
    await this.o.db.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await this.o.db.query<{
      name: string;
      dead: string;
      inserted: string;
      live: string;
    }>(
      `SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS name,
              n_dead_tup AS dead, n_ins_since_vacuum AS inserted, n_live_tup AS live
         FROM pg_stat_user_tables
        WHERE n_dead_tup > $1::int + $3::float8 * n_live_tup
           OR n_ins_since_vacuum > $2::int + $3::float8 * n_live_tup
        ORDER BY n_dead_tup DESC`,
      [deadBase, insertBase, scale],
    );
    return rows.map((r) => ({
      table: r.name,
      dead: Number(r.dead),
      inserted: Number(r.inserted),
      live: Number(r.live),
    }));
  }

  /** One pass; returns the tables it vacuumed. */
  async runOnce(): Promise<string[]> {
    const done: string[] = [];
    for (const c of await this.candidates()) {
      const started = performance.now();
      await this.o.db.exec(`VACUUM (ANALYZE) ${c.table}`);
      const ms = Math.round(performance.now() - started);
      this.o.logger.debug({ table: c.table, dead: c.dead, inserted: c.inserted, ms }, 'vacuumed');
      done.push(c.table);
    }
    return done;
  }
}
