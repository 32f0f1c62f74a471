// Webhook benchmark: webhook -> set (ok = body.n + 1) -> respond, against
// Warden run as users run it (`node bin/warden.js start` / `worker`), in
// each mode: embedded on PGlite (the default, measured first), embedded on
// PostgreSQL, and queue mode with one and two workers. For each mode:
//   - open loop from a separate process: 10/s, then a step to 200/s, then
//     1,000/s, back to back; every request timed from its due time; the
//     first seconds after each step reported apart and inside the whole;
//   - saturation: autocannon, closed loop, its count checked against the
//     execution records in the database;
//   - CPU ms per execution of every process (PostgreSQL backends and
//     redis-server included), statements and Redis calls per execution
//     (Warden's counters, Redis INFO commandstats, pg_stat_database), RSS;
//   - the load average before and after, with a refusal on a busy machine.
// bench/README.md describes the method and every BENCH_* variable.
import { mkdtempSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import autocannon from 'autocannon';

import type { DiskFlushProbe } from './lib/disk.ts';
import { describeDiskFlush, diskNote, probeDiskFlush } from './lib/disk.ts';
import { busyNote, defaultMaxLoad, loadGate } from './lib/gate.ts';
import type { OpenLoopResult } from './lib/open-loop.ts';
import { spawnOpenLoop } from './lib/open-loop.ts';
import { cores, loadavg, postgresProcesses, classifyPg, rssBytes } from './lib/proc.ts';
import type { CpuDelta, Known, PerExecution, ProcSnapshot } from './lib/sampler.ts';
import { counterSnapshot, cpuDelta, perExecution, procSnapshot } from './lib/sampler.ts';
import type { Phase } from './lib/schedule.ts';
import { buildSchedule } from './lib/schedule.ts';
import type { CountCheck } from './lib/verdict.ts';
import { checkCounts, judge, targets } from './lib/verdict.ts';
import type { Proc, RecordCounts, Window } from './lib/warden.ts';
import {
  adminPostgresUrl,
  countRecordsPg,
  countRecordsPglite,
  createDatabase,
  freePort,
  killChildren,
  removeDir,
  setUpThroughCli,
  startRedis,
  startWardenProc,
  waitForDrain,
} from './lib/warden.ts';

const env = process.env;
const num = (name: string, fallback: number) => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`${name} must be a non-negative number; got "${v}"`);
    process.exit(2);
  }
  return n;
};

const modeNames = [
  'embedded-pglite',
  'embedded-pg',
  'queue-1',
  'queue-1-on-worker',
  'queue-2',
] as const;
type ModeName = (typeof modeNames)[number];
const modeLabels: Record<ModeName, string> = {
  'embedded-pglite': 'embedded, PGlite (the default)',
  'embedded-pg': 'embedded, PostgreSQL',
  'queue-1': 'queue mode, 1 worker',
  'queue-1-on-worker': 'queue mode, 1 worker, every execution on the worker',
  'queue-2': 'queue mode, 2 workers',
};
const modes = (env.BENCH_MODES ?? modeNames.join(','))
  .split(',')
  .map((m) => m.trim())
  .filter(Boolean) as ModeName[];
for (const m of modes)
  if (!modeNames.includes(m)) {
    console.error(`BENCH_MODES: unknown mode "${m}"; the modes are ${modeNames.join(', ')}`);
    process.exit(2);
  }

const rates = (env.BENCH_RATES ?? '10,200,1000').split(',').map(Number);
const phaseSeconds = (env.BENCH_PHASE_SECONDS ?? '10,30,15').split(',').map(Number);
if (rates.length !== phaseSeconds.length || [...rates, ...phaseSeconds].some((x) => !(x > 0))) {
  console.error('BENCH_RATES and BENCH_PHASE_SECONDS must be as many positive numbers each');
  process.exit(2);
}
const phases: Phase[] = rates.map((r, i) => ({
  name: `${r}/s`,
  ratePerSec: r,
  seconds: phaseSeconds[i]!,
}));
const stepSeconds = num('BENCH_STEP_WINDOW', 5);
const satSeconds = num('BENCH_SAT_SECONDS', 10);
const connections = num('BENCH_CONNECTIONS', 64);
const settleMs = num('BENCH_SETTLE_SECONDS', 11) * 1000;
const quietWaitMs = num('BENCH_QUIET_WAIT_SECONDS', 180) * 1000;
const drainMs = num('BENCH_DRAIN_SECONDS', 120) * 1000;
const maxLoad = num('BENCH_MAX_LOAD', defaultMaxLoad(cores()));
const maxOther = num('BENCH_MAX_OTHER_CORES', 0.25);
const allowBusy = env.BENCH_ALLOW_BUSY === '1';
const json = process.argv.includes('--json') || env.BENCH_JSON === '1';
const extraEnv = Object.fromEntries(
  (env.BENCH_WARDEN_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf('=');
      if (i < 1) {
        console.error(`BENCH_WARDEN_ENV: "${kv}" is not NAME=value`);
        process.exit(2);
      }
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
);
const body = JSON.stringify({ n: 21 });
const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

class Refused extends Error {}

type PhaseFigures = OpenLoopResult['phases'][number] & {
  cpu: CpuDelta;
  records: RecordCounts;
  note: string;
};

type ModeResult = {
  mode: ModeName;
  label: string;
  loadBefore: number;
  /** The disk's flush time just before the open loop. */
  diskBefore: DiskFlushProbe;
  openLoop: {
    phases: PhaseFigures[];
    generator: OpenLoopResult['generator'];
    records: RecordCounts;
    recordsCheck: CountCheck;
    perExecution: PerExecution;
  };
  saturation: {
    seconds: number;
    connections: number;
    answered: number;
    errors: number;
    clientPerSec: number;
    verifiedPerSec: number;
    p50: number;
    p99: number;
    max: number;
    check: CountCheck;
    cpu: CpuDelta;
    records: RecordCounts;
    perExecution: PerExecution;
    note: string;
  };
  rssAfterOpenLoop: Record<string, number>;
  rssAfterSaturation: Record<string, number>;
  targets: { what: string; met: boolean; note: string }[];
};

function rss(procs: readonly Known[], database: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of procs) {
    const r = rssBytes(p.pid);
    if (r !== undefined) out[p.label] = r;
  }
  if (database) {
    const backends = postgresProcesses().filter(
      (p) => classifyPg(p.title, database) === 'bench-backend',
    );
    out[`postgres backends (${backends.length})`] = backends.reduce(
      (t, p) => t + (rssBytes(p.pid) ?? 0),
      0,
    );
  }
  return out;
}

async function waitForQuiet(): Promise<number> {
  const until = Date.now() + quietWaitMs;
  let load = loadavg()[0];
  while (load > maxLoad && !allowBusy && Date.now() < until) {
    await sleep(5000);
    load = loadavg()[0];
  }
  const gate = loadGate({ load1: load, maxLoad, allowBusy });
  if (gate.refuse) throw new Refused(gate.message);
  return load;
}

async function runMode(mode: ModeName): Promise<ModeResult> {
  const workers = mode === 'queue-2' ? 2 : mode.startsWith('queue-1') ? 1 : 0;
  const usesPg = mode !== 'embedded-pglite';
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const db = usesPg ? await createDatabase() : undefined;
  const redis = workers > 0 && !env.BENCH_REDIS_URL ? await startRedis() : undefined;
  const redisUrl = workers > 0 ? (env.BENCH_REDIS_URL ?? redis!.url) : undefined;
  const procs: Proc[] = [];
  const wardenEnv: Record<string, string> = {
    WARDEN_DATA_DIR: dataDir,
    WARDEN_HOST: '127.0.0.1',
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...(redisUrl
      ? {
          REDIS_URL: redisUrl,
          WARDEN_QUEUE_NAME: `bench-${Date.now()}`,
          WARDEN_QUEUE_PREFIX: `warden-bench-${process.pid}-${Date.now()}`,
        }
      : {}),
    // The main process runs an instant workflow (this one) itself unless told not to.
    ...(mode === 'queue-1-on-worker' ? { WARDEN_INSTANT_RUNS_IN_MAIN: 'false' } : {}),
    ...extraEnv,
  };
  try {
    log(`\n== ${modeLabels[mode]}: setting up (workflow and API key through the CLI)`);
    const setup = setUpThroughCli(wardenEnv, dataDir);
    const port = await freePort();
    const startArgs = ['start', '--port', String(port), '--host', '127.0.0.1'];
    if (workers > 0) startArgs.push('--role', 'main');
    const healthz = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    procs.push(
      await startWardenProc(
        workers > 0 ? 'warden main' : 'warden',
        startArgs,
        wardenEnv,
        dataDir,
        healthz,
      ),
    );
    const metrics = [{ label: 'main', url: `http://127.0.0.1:${port}/metrics` }];
    for (let i = 1; i <= workers; i++) {
      const hp = await freePort();
      const workerUp = async () => (await fetch(`http://127.0.0.1:${hp}/healthz`)).ok;
      procs.push(
        await startWardenProc(
          `worker ${i}`,
          ['worker', '--health-port', String(hp)],
          wardenEnv,
          dataDir,
          workerUp,
        ),
      );
      metrics.push({ label: `worker ${i}`, url: `http://127.0.0.1:${hp}/metrics` });
    }
    const url = `http://127.0.0.1:${port}/webhook/${setup.path}`;
    const smoke = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const answer = (await smoke.json().catch(() => undefined)) as { ok?: number } | undefined;
    if (smoke.status !== 200 || answer?.ok !== 22)
      throw new Error(
        `the workflow answered ${smoke.status} ${JSON.stringify(answer)}, not 200 {"ok":22}`,
      );

    const known: Known[] = procs.map((p) => ({ label: p.name, pid: p.pid }));
    if (redis) known.push({ label: 'redis-server', pid: redis.proc.pid });
    const sources = {
      metrics,
      apiKey: setup.apiKey,
      redisUrl,
      pg: db ? { database: db.name, adminUrl: adminPostgresUrl } : undefined,
    };

    if (!allowBusy) log(`   waiting for a quiet machine (load <= ${maxLoad}) ...`);
    const loadBefore = await waitForQuiet();
    const diskBefore = await probeDiskFlush(tmpdir());
    log(`   ${describeDiskFlush(diskBefore)}`);
    log(
      `   load average ${loadBefore.toFixed(2)}; open loop ${phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')}`,
    );

    // Open loop: three phases back to back, CPU read at every phase edge.
    const c0 = await counterSnapshot(sources);
    const olStartWall = Date.now();
    const gen = spawnOpenLoop({ url, body, phases, stepSeconds });
    const withGen = [...known, { label: 'load generator', pid: gen.pid }];
    const t0 = await gen.started;
    const schedule = buildSchedule(phases);
    const snaps: Promise<ProcSnapshot>[] = schedule.phaseStart.map((offset) =>
      sleep(Math.max(0, t0 + offset - Date.now())).then(() => procSnapshot(withGen, db?.name)),
    );
    const result = await gen.result;
    const endSnap = procSnapshot(withGen, db?.name);
    await gen.close();
    const edges = [...(await Promise.all(snaps)), endSnap];
    const rssAfterOpenLoop = rss(known, db?.name);
    const olEndWall = Date.now();
    await sleep(settleMs); // pg_stat_database is flushed by idle backends within 10 s
    const c1 = await counterSnapshot(sources);
    const olCounterEndWall = Date.now();

    // Saturation: closed loop after the open loop (the other order would time
    // the open loop while the database cleans up after saturation), once
    // Warden has finished what the open loop left behind.
    const drained = await waitForDrain({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: setup.apiKey,
      workflowId: setup.workflowId,
      timeoutMs: drainMs,
    });
    log(
      drained === undefined
        ? `   the open loop's backlog did not drain in ${drainMs / 1000} s`
        : `   the open loop's backlog drained (${drained.toFixed(0)} s)`,
    );
    log(`   saturation: autocannon, ${connections} connections, ${satSeconds} s`);
    const c2 = await counterSnapshot(sources);
    const satCounterStartWall = Date.now();
    const s0 = procSnapshot(known, db?.name);
    const satStartWall = Date.now();
    const sat = await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration: satSeconds,
    });
    const satEndWall = Date.now();
    const s1 = procSnapshot(known, db?.name);
    const rssAfterSaturation = rss(known, db?.name);
    await sleep(settleMs);
    const c3 = await counterSnapshot(sources);
    const satCounterEndWall = Date.now();

    for (const p of [...procs].reverse()) await p.stop();
    procs.length = 0;

    const phaseWindows: Window[] = edges
      .slice(0, -1)
      .map((s, k) => ({ from: s.at, to: edges[k + 1]!.at }));
    const windows: Window[] = [
      ...phaseWindows,
      { from: olStartWall, to: olEndWall },
      { from: olStartWall, to: olCounterEndWall },
      { from: satStartWall, to: satEndWall },
      { from: satCounterStartWall, to: satCounterEndWall },
    ];
    const counts = db
      ? await countRecordsPg(db.url, setup.workflowId, windows)
      : await countRecordsPglite(dataDir, setup.workflowId, windows);
    const n = phases.length;
    const olRecords = counts[n]!;
    const answered = result.phases.reduce((t, p) => t + p.whole.count, 0);
    const clientErrors = result.phases.reduce((t, p) => t + p.whole.errors, 0);
    const olCheck = checkCounts({ answered, records: olRecords, unanswered: clientErrors });
    const phaseFigures: PhaseFigures[] = result.phases.map((p, k) => {
      const cpu = cpuDelta(edges[k]!, edges[k + 1]!);
      return {
        ...p,
        cpu,
        records: counts[k]!,
        note: busyNote({ load1Before: loadBefore, maxLoad, other: cpu.otherCores, maxOther }),
      };
    });
    const satCpu = cpuDelta(s0, s1);
    const satRecords = counts[n + 2]!;
    const satSecondsReal = (satEndWall - satStartWall) / 1000;
    const satNote = [
      busyNote({ load1Before: loadBefore, maxLoad, other: satCpu.otherCores, maxOther }),
      drained === undefined ? "(the open loop's backlog had not drained)" : '',
    ]
      .filter(Boolean)
      .join(' ');
    const saturation = {
      seconds: satSecondsReal,
      connections,
      answered: sat['2xx'],
      errors: sat.errors + sat.non2xx,
      clientPerSec: sat['2xx'] / satSecondsReal,
      verifiedPerSec: satRecords.finished / satSecondsReal,
      p50: sat.latency.p50,
      p99: sat.latency.p99,
      max: sat.latency.max,
      check: checkCounts({
        answered: sat['2xx'],
        records: satRecords,
        unanswered: connections + sat.errors + sat.non2xx,
      }),
      cpu: satCpu,
      records: satRecords,
      perExecution: perExecution(c2, c3, counts[n + 3]!.finished),
      note: satNote,
    };
    const at200 = phaseFigures.find((p) => p.ratePerSec === 200);
    const target = targets[mode];
    const verdicts = target
      ? judge(target, {
          saturation: saturation.verifiedPerSec,
          p99At200: at200?.whole.p99 ?? Number.NaN,
        }).map((v) => ({
          ...v,
          note: v.what.startsWith('saturation')
            ? satNote
            : [at200?.note ?? '', diskNote(diskBefore)].filter(Boolean).join(' '),
        }))
      : [];
    return {
      mode,
      label: modeLabels[mode],
      loadBefore,
      diskBefore,
      openLoop: {
        phases: phaseFigures,
        generator: result.generator,
        records: olRecords,
        recordsCheck: olCheck,
        perExecution: perExecution(c0, c1, counts[n + 1]!.finished),
      },
      saturation,
      rssAfterOpenLoop,
      rssAfterSaturation,
      targets: verdicts,
    };
  } catch (err) {
    for (const p of procs) log(`--- ${p.name} output:\n${p.output()}`);
    throw err;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await redis?.proc.stop();
    if (redis) removeDir(redis.dir);
    await db?.drop();
    removeDir(dataDir);
  }
}

// ---- printing ----

const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
const f2 = (x: number | undefined, missing = 'n/a') =>
  x === undefined || Number.isNaN(x) ? missing : x.toFixed(2);
const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

function printMode(r: ModeResult): void {
  log(`\n### ${r.label}  (load average before: ${r.loadBefore.toFixed(2)})`);
  log(`\nBefore the open loop, ${describeDiskFlush(r.diskBefore)}`);
  log("\nOpen loop, latency in ms from each request's due time:\n");
  log('| rate | window | sent | 2xx | errors | p50 | p99 | max | load before -> after | note |');
  log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const p of r.openLoop.phases) {
    const row = (window: string, s: typeof p.whole, sent: number | string) =>
      log(
        `| ${p.name} | ${window} | ${sent} | ${s.count} | ${s.errors} | ${f1(s.p50)} | ${f1(s.p99)} | ${f1(s.max)} | ${p.cpu.loadBefore.toFixed(2)} -> ${p.cpu.loadAfter.toFixed(2)} | ${p.note} |`,
      );
    const first = p === r.openLoop.phases[0] ? 'first' : 'after the step, first';
    if (p.seconds > p.stepSeconds) {
      row(`${first} ${p.stepSeconds} s`, p.afterStep, p.afterStep.count + p.afterStep.errors);
      row('the rest', p.rest, p.rest.count + p.rest.errors);
    }
    row(
      `whole ${p.seconds} s${p === r.openLoop.phases[0] ? '' : ', the step included'}`,
      p.whole,
      p.sent,
    );
  }
  for (const p of r.openLoop.phases)
    log(
      `  ${p.name} max ms per second: ${p.perSecond.map((b) => (b.count ? b.max.toFixed(0) : '-')).join(' ')}`,
    );
  const g = r.openLoop.generator;
  log(
    `  generator (own process): ${g.sent} sent, ${g.late} later than ${g.lateMs} ms (send lag p99 ${f1(g.sendLagP99)}, max ${f1(g.sendLagMax)} ms), event-loop delay p99 ${f1(g.eventLoopDelayP99)} / max ${f1(g.eventLoopDelayMax)} ms, ${g.maxInFlight} in flight at most, ${g.waitedForConnection} waited for a connection, CPU ${g.cpuMs.toFixed(0)} ms${Object.keys(g.errorsByCode).length ? `, errors ${JSON.stringify(g.errorsByCode)}` : ''}`,
  );
  log(`  records: ${r.openLoop.recordsCheck.message}`);

  const s = r.saturation;
  log(
    `\nSaturation (autocannon, ${s.connections} connections, closed loop, ${s.seconds.toFixed(1)} s) ${s.note}:`,
  );
  log(
    `  ${Math.round(s.verifiedPerSec)} executions/s by the records (${s.records.finished} finished in the window); client ${Math.round(s.clientPerSec)} 2xx/s; p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms; errors ${s.errors}`,
  );
  log(`  records: ${s.check.message}`);

  log('\nCPU ms per execution (executions: succeeded records finished in the window):\n');
  const windows = [
    ...r.openLoop.phases.map((p) => ({
      name: p.name,
      cpu: p.cpu,
      execs: p.records.finished,
      note: p.note,
    })),
    { name: 'saturation', cpu: s.cpu, execs: s.records.finished, note: s.note },
  ];
  const labels = [...new Set(windows.flatMap((w) => Object.keys(w.cpu.ms)))];
  log(`| process | ${windows.map((w) => `${w.name} (${w.execs} exec)`).join(' | ')} |`);
  log(`| --- | ${windows.map(() => '---').join(' | ')} |`);
  for (const l of labels)
    log(
      `| ${l} | ${windows.map((w) => (w.cpu.ms[l] === undefined ? '-' : f2(w.execs ? w.cpu.ms[l]! / w.execs : undefined, '-'))).join(' | ')} |`,
    );
  const serving = (w: (typeof windows)[number]) =>
    Object.entries(w.cpu.ms)
      .filter(([k]) => k !== 'load generator')
      .reduce((t, [, v]) => t + v, 0);
  log(
    `| all but the generator | ${windows.map((w) => f2(w.execs ? serving(w) / w.execs : undefined, '-')).join(' | ')} |`,
  );
  log(
    `| other processes (cores) | ${windows.map((w) => `${w.cpu.otherCores.toFixed(2)} ${w.note}`).join(' | ')} |`,
  );

  log(
    `\nPer execution (counters read ${settleMs / 1000} s after each run: idle PostgreSQL backends flush their statistics within 10 s):\n`,
  );
  log('| counter | open loop | saturation |');
  log('| --- | --- | --- |');
  const o = r.openLoop.perExecution;
  const t = s.perExecution;
  const missing = 'n/a (metric missing)';
  const noPg = r.mode === 'embedded-pglite' ? 'n/a (PGlite: inside the main process)' : 'n/a';
  const noRedis = r.mode.startsWith('queue') ? 'n/a' : 'n/a (no Redis in this mode)';
  log(`| executions counted | ${o.executions} | ${t.executions} |`);
  log(
    `| statements (warden_db_statements_total) | ${f2(o.statements, missing)} | ${f2(t.statements, missing)} |`,
  );
  log(
    `| Redis commands (warden_redis_commands_total) | ${r.mode.startsWith('queue') ? f2(o.redisCommands, missing) : noRedis} | ${r.mode.startsWith('queue') ? f2(t.redisCommands, missing) : noRedis} |`,
  );
  log(
    `| Redis calls (INFO commandstats) | ${f2(o.redisCalls, noRedis)} | ${f2(t.redisCalls, noRedis)} |`,
  );
  log(
    `| PostgreSQL transactions (pg_stat_database) | ${f2(o.pgTransactions, noPg)} | ${f2(t.pgTransactions, noPg)} |`,
  );
  log(
    `| PostgreSQL tuples written | ${f2(o.pgTuplesWritten, noPg)} | ${f2(t.pgTuplesWritten, noPg)} |`,
  );
  log(`| PostgreSQL tuples read | ${f2(o.pgTuplesRead, noPg)} | ${f2(t.pgTuplesRead, noPg)} |`);
  const flushes =
    r.mode === 'embedded-pglite'
      ? 'disk flushes (warden_db_disk_flushes_total)'
      : 'disk flushes (pg_stat_wal.wal_sync, whole server)';
  log(`| ${flushes} | ${f2(o.diskFlushes)} | ${f2(t.diskFlushes)} |`);

  log(
    `\nRSS after the open loop: ${Object.entries(r.rssAfterOpenLoop)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(', ')}`,
  );
  log(
    `RSS after saturation: ${Object.entries(r.rssAfterSaturation)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(', ')}`,
  );
  if (r.targets.length) {
    log('\nTargets:');
    for (const v of r.targets) log(`  ${v.met ? 'met' : 'MISSED'}: ${v.what} ${v.note}`);
  }
}

// ---- main ----

const machine = {
  cores: cores(),
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  kernel: release(),
};
const startLoad = loadavg();
const gate = loadGate({ load1: startLoad[0], maxLoad, allowBusy });
log('Warden webhook benchmark: webhook -> set (ok = body.n + 1) -> respond');
log(
  `machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, Linux ${machine.kernel}`,
);
log(`load average at the start: ${startLoad.map((x) => x.toFixed(2)).join(' ')}; ${gate.message}`);
const startDisk = await probeDiskFlush(tmpdir());
log(`${describeDiskFlush(startDisk)} (in ${tmpdir()}, where the data directories go)`);
log(
  `open loop: ${phases.map((p) => `${p.name} for ${p.seconds} s`).join(', then ')} (first ${stepSeconds} s after each step apart); saturation ${satSeconds} s at ${connections} connections`,
);
log(
  `Warden settings: its defaults${Object.keys(extraEnv).length ? ` and ${JSON.stringify(extraEnv)}` : ''}; modes ${modes.join(', ')}`,
);
if (gate.refuse) {
  console.error(`refused: ${gate.message}`);
  process.exit(3);
}

const results: ModeResult[] = [];
let code = 0;
try {
  for (const m of modes) {
    const r = await runMode(m);
    results.push(r);
    printMode(r);
  }
} catch (err) {
  if (err instanceof Refused) {
    console.error(`refused: ${err.message}`);
    code = 3;
  } else {
    console.error(err);
    code = 1;
  }
} finally {
  await killChildren();
}
const endLoad = loadavg();
log(`\nload average at the end: ${endLoad.map((x) => x.toFixed(2)).join(' ')}`);
if (json)
  process.stdout.write(
    `${JSON.stringify(
      {
        machine,
        loadStart: startLoad,
        diskStart: startDisk,
        loadEnd: endLoad,
        maxLoad,
        allowBusy,
        phases,
        modes: results,
      },
      // A figure that could not be had (a missing metric, no Redis) is null, not absent.
      (_key, value: unknown) => (value === undefined ? null : value),
      2,
    )}\n`,
  );
if (results.some((r) => !r.saturation.check.ok || !r.openLoop.recordsCheck.ok)) code ||= 4;
process.exit(code);
