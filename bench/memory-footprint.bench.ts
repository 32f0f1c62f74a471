// Memory footprint: resident memory (RSS) of Warden's processes after a
// webhook load, against the targets: the embedded Warden (PGlite) under
// 300 MB, queue mode's main process and one worker under 250 MB together.
// The load is webhook -> set -> respond at a steady rate for BENCH_SECONDS
// (default 20) at BENCH_RATE per second (default 100). RSS is read from /proc
// after the load and a short settle, with the peak (VmHWM) beside it; the
// load average is printed because a busy machine moves the figures.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { createServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import type { WardenProcess } from '../test/helpers/processes.ts';
import { freePort, killAll, startWarden } from '../test/helpers/processes.ts';
import { createTestDatabase, testRedisUrl } from '../test/helpers/servers.ts';
import { webhookSetRespond } from '../test/helpers/workflows.ts';
import { runOpenLoop } from './lib/open-loop.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const rate = Number(process.env.BENCH_RATE ?? 100);
const body = JSON.stringify({ name: 'bench', n: 21 });

/** Resident and peak resident memory of a live process, in MB (Linux). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

type Row = { what: string; rss: number; peak: number; target?: number; note: string };
const rows: Row[] = [];
const mb = (n: number) => `${Math.round(n)} MB`;

/** Makes the webhook workflow in the database that env points at; returns its path. */
async function prepareWorkflow(env: Record<string, string | undefined>): Promise<string> {
  const config = loadConfig({ env: { ...env, LOG_LEVEL: 'silent', REDIS_URL: undefined } });
  const services = await createServices(config, createLogger({ level: 'silent' }));
  try {
    const path = `bench-${randomUUID()}`;
    const wf = await services.engine.createWorkflow(webhookSetRespond(path));
    await services.engine.setActive(wf.id, true);
    return path;
  } finally {
    await services.close();
  }
}

async function drive(port: number, path: string): Promise<string> {
  const url = `http://127.0.0.1:${port}/webhook/${path}`;
  const r = await runOpenLoop({
    url,
    body,
    phases: [{ name: `${rate}/s`, ratePerSec: rate, seconds }],
  });
  const p = r.phases[0]!;
  // Let the last executions finish and the collectors run before reading.
  await new Promise((res) => setTimeout(res, 3000));
  return `${p.whole.count}/${p.sent} answered, ${p.whole.errors} errors`;
}

async function embedded(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-footprint-'));
  const env = { WARDEN_DATA_DIR: dataDir, LOG_LEVEL: 'warn', OLLAMA_URL: 'http://127.0.0.1:9' };
  let proc: WardenProcess | undefined;
  try {
    const path = await prepareWorkflow(env);
    const port = await freePort();
    const up = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    proc = await startWarden(['start', '--port', String(port), '--host', '127.0.0.1'], env, up);
    const idle = memory(proc.pid);
    console.log(`embedded, after start: ${mb(idle.rss)}`);
    const note = await drive(port, path);
    const m = memory(proc.pid);
    rows.push({ what: 'embedded (PGlite), after load', ...m, target: 300, note });
    console.log(`embedded, after load: ${mb(m.rss)} (peak ${mb(m.peak)}); ${note}`);
  } finally {
    await proc?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function queueMode(): Promise<void> {
  const db = await createTestDatabase();
  const queueName = `footprint-${randomUUID()}`;
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    OLLAMA_URL: 'http://127.0.0.1:9',
    REDIS_URL: testRedisUrl,
    WARDEN_QUEUE_NAME: queueName,
    WARDEN_QUEUE_PREFIX: 'warden-bench',
  };
  const procs: WardenProcess[] = [];
  try {
    const path = await prepareWorkflow(env);
    const port = await freePort();
    const up = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    const main = await startWarden(
      ['start', '--role', 'main', '--port', String(port), '--host', '127.0.0.1'],
      env,
      up,
    );
    procs.push(main);
    const worker = await startWarden(
      ['worker'],
      { ...env, LOG_LEVEL: 'info' },
      /worker is consuming/,
    );
    procs.push(worker);
    const note = await drive(port, path);
    const a = memory(main.pid);
    const b = memory(worker.pid);
    rows.push({ what: 'queue mode: main', ...a, note });
    rows.push({ what: 'queue mode: worker', ...b, note });
    rows.push({
      what: 'queue mode: main + worker',
      rss: a.rss + b.rss,
      peak: a.peak + b.peak,
      target: 250,
      note,
    });
    console.log(`queue mode, after load: main ${mb(a.rss)}, worker ${mb(b.rss)}; ${note}`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    const q = new BullmqQueue({ url: testRedisUrl, name: queueName, prefix: 'warden-bench' });
    await q.obliterate().catch(() => {});
    await q.close();
    await db.drop();
  }
}

const load = loadavg().map((l) => l.toFixed(2));
try {
  await embedded();
  await queueMode();
} finally {
  await killAll();
}
console.log(
  `\nRSS after webhook -> set -> respond at ${rate}/s for ${seconds} s; load average at start: ${load.join(' ')}; now: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| process | RSS after load | peak RSS | target | | requests |\n| --- | --- | --- | --- | --- | --- |',
);
for (const r of rows)
  console.log(
    `| ${r.what} | ${mb(r.rss)} | ${mb(r.peak)} | ${r.target ? `< ${r.target} MB` : ''} | ${r.target ? (r.rss < r.target ? 'met' : 'missed') : ''} | ${r.note} |`,
  );
