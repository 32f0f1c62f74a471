// Readings taken at the edges of each phase: CPU ticks of every process that
// serves the benchmark (Warden's, the generator, redis-server and each
// PostgreSQL process by what it serves), the machine's busy time and load
// average; and the counters that say how much work an execution cost:
// Warden's own metrics, Redis INFO commandstats, pg_stat_database.
import pg from 'pg';
import { Redis } from 'ioredis';

import { commandCalls, parseCommandstats, sumMetric } from './counters.ts';
import { otherCores } from './gate.ts';
import type { PgRole } from './proc.ts';
import {
  classifyPg,
  clockTicks,
  cpuTicks,
  loadavg,
  machineStat,
  postgresProcesses,
} from './proc.ts';

export type Known = { label: string; pid: number };

export type ProcSnapshot = {
  at: number;
  load: [number, number, number];
  machineBusy: number;
  known: Record<string, number | undefined>;
  pg: Map<number, { role: PgRole; ticks: number }>;
};

export function procSnapshot(known: readonly Known[], database: string | undefined): ProcSnapshot {
  const pgProcs = new Map<number, { role: PgRole; ticks: number }>();
  // With no database of its own (PGlite), the bench counts no PostgreSQL process as its.
  if (database !== undefined)
    for (const p of postgresProcesses()) {
      const ticks = cpuTicks(p.pid);
      if (ticks !== undefined) pgProcs.set(p.pid, { role: classifyPg(p.title, database), ticks });
    }
  return {
    at: Date.now(),
    load: loadavg(),
    machineBusy: machineStat().busy,
    known: Object.fromEntries(known.map((k) => [k.label, cpuTicks(k.pid)])),
    pg: pgProcs,
  };
}

export type CpuDelta = {
  elapsedMs: number;
  loadBefore: number;
  loadAfter: number;
  /** CPU ms of each known process, of the bench database's PostgreSQL backends, and of the server's own processes. */
  ms: Record<string, number>;
  pgBackends: number;
  /** Cores kept busy by processes outside the benchmark during the window. */
  otherCores: number;
};

const ms = (ticks: number) => (ticks * 1000) / clockTicks;

export function cpuDelta(a: ProcSnapshot, b: ProcSnapshot): CpuDelta {
  const out: Record<string, number> = {};
  let benchTicks = 0;
  for (const [label, after] of Object.entries(b.known)) {
    const before = a.known[label];
    if (after === undefined) continue;
    const d = after - (before ?? 0);
    out[label] = ms(d);
    benchTicks += d;
  }
  let pgBench = 0;
  let pgServer = 0;
  let backends = 0;
  for (const [pid, p] of b.pg) {
    const d = p.ticks - (a.pg.get(pid)?.ticks ?? 0);
    if (p.role === 'bench-backend') {
      pgBench += d;
      backends++;
    } else if (p.role === 'server') pgServer += d;
  }
  benchTicks += pgBench + pgServer;
  if (backends > 0 || pgServer > 0) {
    out['postgres backends'] = ms(pgBench);
    out['postgres server'] = ms(pgServer);
  }
  const elapsedMs = b.at - a.at;
  return {
    elapsedMs,
    loadBefore: a.load[0],
    loadAfter: b.load[0],
    ms: out,
    pgBackends: backends,
    otherCores: otherCores({
      machineBusyTicks: b.machineBusy - a.machineBusy,
      benchTicks,
      elapsedMs,
      ticksPerSec: clockTicks,
    }),
  };
}

export type CounterSources = {
  /** Warden processes with a /metrics endpoint. */
  metrics: { label: string; url: string }[];
  apiKey: string;
  redisUrl?: string;
  /** The bench database's name and an admin URL on another database (its reads don't count). */
  pg?: { database: string; adminUrl: string };
};

const pgFields = [
  'xact_commit',
  'xact_rollback',
  'tup_returned',
  'tup_fetched',
  'tup_inserted',
  'tup_updated',
  'tup_deleted',
] as const;

export type CounterSnapshot = {
  statements: number | undefined;
  redisCommands: number | undefined;
  /** The embedded database's fsync calls (warden_db_disk_flushes_total). */
  diskFlushes?: number;
  /** PostgreSQL's WAL flushes, for the whole server (pg_stat_wal.wal_sync). */
  pgWalSyncs?: number;
  commandstats?: Map<string, number>;
  pgStats?: Record<(typeof pgFields)[number], number>;
};

async function scrape(url: string, apiKey: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.text();
}

export async function counterSnapshot(src: CounterSources): Promise<CounterSnapshot> {
  let statements: number | undefined;
  let redisCommands: number | undefined;
  let diskFlushes: number | undefined;
  for (const m of src.metrics) {
    const text = await scrape(m.url, src.apiKey);
    const s = sumMetric(text, 'warden_db_statements_total');
    const r = sumMetric(text, 'warden_redis_commands_total');
    const f = sumMetric(text, 'warden_db_disk_flushes_total');
    if (s !== undefined) statements = (statements ?? 0) + s;
    if (r !== undefined) redisCommands = (redisCommands ?? 0) + r;
    if (f !== undefined) diskFlushes = (diskFlushes ?? 0) + f;
  }
  const out: CounterSnapshot = { statements, redisCommands, diskFlushes };
  if (src.redisUrl) {
    const redis = new Redis(src.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      out.commandstats = parseCommandstats(await redis.info('commandstats'));
    } finally {
      redis.disconnect();
    }
  }
  if (src.pg) {
    const c = new pg.Client({ connectionString: src.pg.adminUrl });
    await c.connect();
    try {
      const { rows } = await c.query<Record<string, string>>(
        `SELECT ${pgFields.join(', ')} FROM pg_stat_database WHERE datname = $1`,
        [src.pg.database],
      );
      const row = rows[0] ?? {};
      out.pgStats = Object.fromEntries(pgFields.map((f) => [f, Number(row[f] ?? 0)])) as Record<
        (typeof pgFields)[number],
        number
      >;
      // pg_stat_wal is PostgreSQL 14 and later.
      const wal = await c
        .query<{ wal_sync: string }>('SELECT wal_sync FROM pg_stat_wal')
        .catch(() => undefined);
      if (wal?.rows[0]) out.pgWalSyncs = Number(wal.rows[0].wal_sync);
    } finally {
      await c.end();
    }
  }
  return out;
}

export type PerExecution = {
  executions: number;
  statements: number | undefined;
  redisCommands: number | undefined;
  redisCalls: number | undefined;
  pgTransactions: number | undefined;
  pgTuplesWritten: number | undefined;
  pgTuplesRead: number | undefined;
  /** fsync calls: the embedded database's own, or PostgreSQL's WAL flushes (whole server). */
  diskFlushes: number | undefined;
};

export function perExecution(
  a: CounterSnapshot,
  b: CounterSnapshot,
  executions: number,
): PerExecution {
  const per = (x: number | undefined) =>
    x === undefined || executions === 0 ? undefined : x / executions;
  const d = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? undefined : y - x;
  const s = (k: (typeof pgFields)[number]) => d(a.pgStats?.[k], b.pgStats?.[k]);
  const add = (...xs: (number | undefined)[]) =>
    xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((t, x) => t + x!, 0);
  return {
    executions,
    statements: per(d(a.statements, b.statements)),
    redisCommands: per(d(a.redisCommands, b.redisCommands)),
    redisCalls:
      a.commandstats && b.commandstats
        ? per(commandCalls(a.commandstats, b.commandstats))
        : undefined,
    pgTransactions: per(add(s('xact_commit'), s('xact_rollback'))),
    pgTuplesWritten: per(add(s('tup_inserted'), s('tup_updated'), s('tup_deleted'))),
    pgTuplesRead: per(add(s('tup_returned'), s('tup_fetched'))),
    diskFlushes: per(d(a.diskFlushes, b.diskFlushes) ?? d(a.pgWalSyncs, b.pgWalSyncs)),
  };
}
