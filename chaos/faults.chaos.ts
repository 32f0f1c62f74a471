// The chaos suite: real Warden processes on a private PostgreSQL cluster and
// a private redis-server, with faults injected while webhook load runs.
// Prints per scenario: unexpected process exits, accepted executions and
// alerts lost, side effects repeated, executions still unfinished 60 s after
// the fault ended, the time from the fault's end to recovery, and the answers
// callers got during the fault. `npm run chaos [-- name...]` runs some.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { killAll } from '../test/helpers/processes.ts';
import type { Figures, HttpSink, PrivatePostgres, WardenProcess } from './harness.ts';
import {
  effectWorkflow,
  effectsRepeated,
  ExitWatch,
  freePort,
  Load,
  lostKeys,
  printFigures,
  queryOnce,
  ready,
  setupServices,
  sleep,
  startHttpSink,
  startPrivatePostgres,
  startPrivateRedis,
  startWarden,
  unfinished,
  until,
} from './harness.ts';

const quick = {
  WARDEN_LEASE_MS: '3000',
  WARDEN_HEARTBEAT_MS: '500',
  WARDEN_SWEEP_INTERVAL_MS: '1000',
  WARDEN_REQUEUE_AFTER_MS: '15000',
  WARDEN_WEBHOOK_RESPONSE_TIMEOUT_MS: '10000',
  WARDEN_HEAL_EVIDENCE_ACTIONS: '',
  // The side-effect sink listens on loopback, which workflows may not reach by default.
  WARDEN_HTTP_ALLOW_HOSTS: '127.0.0.1,localhost',
  // No model server: healing runs escalate, quickly.
  OLLAMA_URL: 'http://127.0.0.1:9',
};

type Rig = {
  pg: PrivatePostgres;
  sink: HttpSink;
  db: string;
  env: Record<string, string>;
  hookPath: string;
  alertToken: string;
};

/** A fresh database on the private cluster, with the load's workflow and an Alertmanager endpoint. */
async function rig(pg: PrivatePostgres, sink: HttpSink, extra: Record<string, string> = {}) {
  const name = `chaos_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await queryOnce(pg.url, `CREATE DATABASE ${name}`);
  const db = pg.url.replace(/\/postgres$/, `/${name}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-chaos-'));
  const env = { ...quick, DATABASE_URL: db, WARDEN_DATA_DIR: dataDir, ...extra };
  const s = await setupServices(env);
  const hookPath = `load-${name}`;
  const wf = await s.engine.createWorkflow(effectWorkflow(sink.url, hookPath));
  await s.engine.setActive(wf.id, true);
  const { token } = await s.alertEndpoints.create({ name: 'am', source: 'alertmanager' });
  await s.close();
  return { pg, sink, db, env, hookPath, alertToken: token } satisfies Rig;
}

async function startMain(r: Rig, watch: ExitWatch, role = 'all', env: Record<string, string> = {}) {
  const port = await freePort();
  const p = await startWarden(
    ['start', '--role', role, '--port', String(port)],
    { ...r.env, ...env },
    /Warden is running/,
  );
  watch.watch(p, `main:${port}`);
  return { p, port };
}

function alertmanager(n: number, tag: string, services = 10): string {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    commonLabels: {},
    alerts: Array.from({ length: n }, (_, i) => ({
      status: 'firing',
      labels: { alertname: `${tag}-${i}`, service: `svc-${i % services}`, severity: 'critical' },
      annotations: { summary: `${tag} ${i}` },
      startsAt: new Date().toISOString(),
    })),
  });
}

async function postAlerts(port: number, token: string, body: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/hooks/alerts/alertmanager/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(120_000),
    });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** Waits (at most 60 s) for the backlog to drain; returns what is still unfinished. */
async function stranded(db: string): Promise<number> {
  await until(async () => (await unfinished(db)) === 0, 60_000, 500);
  return unfinished(db).catch(() => -1);
}

async function storm(pg: PrivatePostgres, sink: HttpSink, n: number, notifications = 1) {
  const r = await rig(pg, sink);
  const watch = new ExitWatch();
  const { p, port } = await startMain(r, watch);
  const load = new Load(() => `http://127.0.0.1:${port}/webhook/${r.hookPath}`, 5);
  load.start();
  await sleep(1000);
  load.setPhase('fault');
  const tag = `storm${n}x${notifications}`;
  const t0 = Date.now();
  const statuses = await Promise.all(
    Array.from({ length: notifications }, (_, k) =>
      postAlerts(port, r.alertToken, alertmanager(n, `${tag}-${k}`)),
    ),
  );
  const accepted = statuses.filter((s) => s === 200).length * n;
  const faultEnd = Date.now();
  load.setPhase('after');
  const recoveryMs = await until(() => ready(port), 60_000);
  await sleep(2000);
  await load.stop();
  const rows = await queryOnce<{ n: number }>(
    r.db,
    "SELECT count(DISTINCT labels->>'alertname')::int AS n FROM alerts WHERE labels->>'alertname' LIKE $1",
    [`${tag}-%`],
  );
  const left = await stranded(r.db);
  const f: Figures = {
    scenario:
      notifications > 1 ? `burst of ${notifications} notifications` : `storm of ${n} alerts`,
    exits: watch.unexpected,
    lostExecutions: lostKeys(load, sink),
    lostAlerts: accepted - Number(rows[0]!.n),
    repeatedEffects: effectsRepeated(sink),
    stranded: left,
    recoveryMs: recoveryMs ?? 'not recovered',
    duringFault: `alerts ${tally(statuses)} in ${faultEnd - t0} ms; webhooks ${load.tally('fault')}`,
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await p.stop();
  return f;
}

function tally(statuses: number[]): string {
  const m = new Map<number, number>();
  for (const s of statuses) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m.entries()].map(([k, v]) => `${k}×${v}`).join(' ');
}

async function postgresStop(pg: PrivatePostgres, sink: HttpSink, seconds: number) {
  const r = await rig(pg, sink);
  const watch = new ExitWatch();
  const { p, port } = await startMain(r, watch);
  const load = new Load(() => `http://127.0.0.1:${port}/webhook/${r.hookPath}`, 5);
  load.start();
  await sleep(2000);
  load.setPhase('fault');
  await pg.stop();
  await sleep(seconds * 1000);
  await pg.start();
  load.setPhase('after');
  const recoveryMs = await until(() => ready(port), 120_000);
  await sleep(3000);
  await load.stop();
  const left = await stranded(r.db);
  const f: Figures = {
    scenario: `PostgreSQL stopped ${seconds} s`,
    exits: watch.unexpected,
    lostExecutions: lostKeys(load, sink),
    lostAlerts: '-',
    repeatedEffects: effectsRepeated(sink),
    stranded: left,
    recoveryMs: recoveryMs ?? 'not recovered',
    duringFault: load.tally('fault'),
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await p.stop();
  return f;
}

async function queueRig(pg: PrivatePostgres, sink: HttpSink) {
  const redis = await startPrivateRedis();
  const r = await rig(pg, sink, {
    REDIS_URL: redis.url,
    WARDEN_QUEUE_NAME: `chaos-${randomUUID()}`,
    WARDEN_REDIS_PING_INTERVAL_MS: '1000',
  });
  return { r, redis };
}

async function startWorker(r: Rig, watch: ExitWatch, name: string): Promise<WardenProcess> {
  const p = await startWarden(['worker', '--concurrency', '4'], r.env, /worker is consuming/);
  return watch.watch(p, name);
}

async function redisKill(pg: PrivatePostgres, sink: HttpSink) {
  const { r, redis } = await queueRig(pg, sink);
  const watch = new ExitWatch();
  const { p, port } = await startMain(r, watch, 'main');
  const workers = [
    await startWorker(r, watch, 'worker-1'),
    await startWorker(r, watch, 'worker-2'),
  ];
  const load = new Load(() => `http://127.0.0.1:${port}/webhook/${r.hookPath}`, 5);
  load.start();
  await sleep(2000);
  load.setPhase('fault');
  await redis.stop();
  await sleep(5000);
  await redis.start();
  load.setPhase('after');
  const recoveryMs = await until(() => ready(port), 120_000);
  await sleep(3000);
  await load.stop();
  const left = await stranded(r.db);
  const f: Figures = {
    scenario: 'Redis killed 5 s, back empty',
    exits: watch.unexpected,
    lostExecutions: lostKeys(load, sink),
    lostAlerts: '-',
    repeatedEffects: effectsRepeated(sink),
    stranded: left,
    recoveryMs: recoveryMs ?? 'not recovered',
    duringFault: load.tally('fault'),
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await Promise.all([p.stop(), ...workers.map((w) => w.stop())]);
  await redis.stop();
  return f;
}

async function workerKills(pg: PrivatePostgres, sink: HttpSink) {
  const { r, redis } = await queueRig(pg, sink);
  const watch = new ExitWatch();
  const { p, port } = await startMain(r, watch, 'main');
  const workers = [
    await startWorker(r, watch, 'worker-1'),
    await startWorker(r, watch, 'worker-2'),
  ];
  const load = new Load(() => `http://127.0.0.1:${port}/webhook/${r.hookPath}`, 5);
  load.start();
  await sleep(2000);
  load.setPhase('fault');
  for (let round = 0; round < 6; round++) {
    const i = round % workers.length;
    watch.expect(workers[i]!);
    await workers[i]!.kill();
    workers[i] = await startWorker(r, watch, `worker-${i + 1}.${round}`);
    await sleep(3000);
  }
  load.setPhase('after');
  const recoveryMs = await until(() => ready(port), 60_000);
  await sleep(3000);
  await load.stop();
  const left = await stranded(r.db);
  const f: Figures = {
    scenario: 'a worker SIGKILLed every 3 s (6 times)',
    exits: watch.unexpected,
    lostExecutions: lostKeys(load, sink),
    lostAlerts: '-',
    repeatedEffects: effectsRepeated(sink),
    stranded: left,
    recoveryMs: recoveryMs ?? 'not recovered',
    duringFault: load.tally('fault'),
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await Promise.all([p.stop(), ...workers.map((w) => w.stop())]);
  await redis.stop();
  return f;
}

async function embeddedKill(sink: HttpSink) {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-chaos-embedded-'));
  const env = { ...quick, WARDEN_DATA_DIR: dataDir };
  const s = await setupServices(env);
  const hookPath = `embedded-${randomUUID().slice(0, 8)}`;
  const wf = await s.engine.createWorkflow(effectWorkflow(sink.url, hookPath));
  await s.engine.setActive(wf.id, true);
  await s.close();
  const watch = new ExitWatch();
  const port = await freePort();
  const start = () =>
    startWarden(['start', '--port', String(port)], env, /Warden is running/, 120_000);
  let p = watch.watch(await start(), 'embedded');
  const load = new Load(() => `http://127.0.0.1:${port}/webhook/${hookPath}`, 5);
  load.start();
  await sleep(3000);
  load.setPhase('fault');
  watch.expect(p);
  await p.kill();
  const t0 = Date.now();
  p = watch.watch(await start(), 'embedded (restarted)');
  load.setPhase('after');
  const recovered = await until(() => ready(port), 120_000);
  const recoveryMs = recovered === undefined ? 'not recovered' : Date.now() - t0;
  await sleep(3000);
  await load.stop();
  // The embedded database belongs to the process: ask it through its API-less
  // view, the side-effect sink, and wait for every accepted key's effect.
  await until(async () => lostKeys(load, sink) === 0, 60_000, 500);
  const f: Figures = {
    scenario: 'embedded process SIGKILLed mid-run',
    exits: watch.unexpected,
    lostExecutions: lostKeys(load, sink),
    lostAlerts: '-',
    repeatedEffects: effectsRepeated(sink),
    stranded: '(see lost)',
    recoveryMs,
    duringFault: load.tally('fault'),
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await p.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return f;
}

async function restartBacklog(pg: PrivatePostgres, sink: HttpSink) {
  const r = await rig(pg, sink);
  const watch = new ExitWatch();
  // The backlog: 1,000 incidents opened while no worker ran, each with its healing run queued.
  const first = await startMain(r, watch, 'all', { WARDEN_HEAL_STORM_PAUSE_AFTER: '100000' });
  const status = await postAlerts(first.port, r.alertToken, alertmanager(1000, 'backlog', 1000));
  watch.expect(first.p);
  await first.p.kill();
  const queued = await unfinished(r.db);
  const t0 = Date.now();
  const { p, port } = await startMain(r, watch, 'all', {
    WARDEN_HEAL_STORM_PAUSE_AFTER: '100000',
  });
  const recoveryMs = await until(() => ready(port), 60_000);
  const drainedMs = await until(async () => (await unfinished(r.db)) === 0, 600_000, 1000);
  const f: Figures = {
    scenario: `restart with ${queued} queued healing runs (alerts: ${status})`,
    exits: watch.unexpected,
    lostExecutions: '-',
    lostAlerts: '-',
    repeatedEffects: effectsRepeated(sink),
    stranded: await unfinished(r.db),
    recoveryMs: recoveryMs ?? 'not recovered',
    duringFault: `drained in ${drainedMs === undefined ? 'more than 600000' : Date.now() - t0} ms`,
    ...(watch.notes.length ? { notes: watch.notes.join('\n') } : {}),
  };
  await p.stop();
  return f;
}

const scenarios: Record<string, (pg: PrivatePostgres, sink: HttpSink) => Promise<Figures>> = {
  'storm-1': (pg, sink) => storm(pg, sink, 1),
  'storm-12': (pg, sink) => storm(pg, sink, 12),
  'storm-100': (pg, sink) => storm(pg, sink, 100),
  'storm-1000': (pg, sink) => storm(pg, sink, 1000),
  'burst-1000': (pg, sink) => storm(pg, sink, 1, 1000),
  'postgres-5s': (pg, sink) => postgresStop(pg, sink, 5),
  'postgres-60s': (pg, sink) => postgresStop(pg, sink, 60),
  'redis-kill': redisKill,
  'worker-kills': workerKills,
  'embedded-kill': (_pg, sink) => embeddedKill(sink),
  'restart-backlog': restartBacklog,
};

async function main() {
  const wanted = process.argv.slice(2);
  const names = Object.keys(scenarios).filter(
    (n) => wanted.length === 0 || wanted.some((w) => n.includes(w)),
  );
  const pg = await startPrivatePostgres();
  const figures: Figures[] = [];
  try {
    for (const name of names) {
      const sink = await startHttpSink();
      console.error(`== ${name}`);
      try {
        figures.push(await scenarios[name]!(pg, sink));
      } catch (err) {
        figures.push({
          scenario: name,
          exits: -1,
          lostExecutions: '?',
          lostAlerts: '?',
          repeatedEffects: 0,
          stranded: '?',
          recoveryMs: '?',
          duringFault: `scenario failed: ${(err as Error).message.split('\n')[0]}`,
        });
      } finally {
        await sink.close();
      }
    }
  } finally {
    await killAll();
    await pg.destroy();
  }
  printFigures(figures);
  const bad = figures.some(
    (f) =>
      f.exits !== 0 ||
      f.repeatedEffects !== 0 ||
      (typeof f.lostExecutions === 'number' && f.lostExecutions > 0),
  );
  process.exit(bad ? 1 : 0);
}

await main();
