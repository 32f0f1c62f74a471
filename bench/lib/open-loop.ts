// The open-loop load generator, run as its own process so that it never
// shares an event loop (or a garbage collector) with the bench's bookkeeping:
// `node --import tsx bench/lib/open-loop.ts '<plan json>'`. It prints
// `start <epoch ms>` when the first request is due, then one line of JSON
// with the result. Requests go through an undici Pool with enough
// connections for every request in flight, are sent when due (a timer to the
// next due time, then everything that is due), and are timed from when they
// were due. It reports on itself too: how late it sent, its event-loop delay,
// its CPU, and how many requests had to wait for a free connection.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

import { Pool } from 'undici';

import type { Phase, PhaseReport } from './schedule.ts';
import { buildSchedule, summarizePhases } from './schedule.ts';
import { percentile } from './stats.ts';

export type OpenLoopPlan = {
  url: string;
  body: string;
  phases: Phase[];
  /** Seconds after each step reported on their own. @default 5 */
  stepSeconds?: number;
  /** Most connections the pool opens; requests beyond wait (and are counted). @default 2000 */
  connections?: number;
  /** A send later than this after its due time counts as late. @default 5 */
  lateMs?: number;
  /** Give up on one request after this long. @default 30000 */
  timeoutMs?: number;
};

export type GeneratorReport = {
  sent: number;
  /** Sends more than lateMs after their due time. */
  late: number;
  lateMs: number;
  sendLagP99: number;
  sendLagMax: number;
  eventLoopDelayP99: number;
  eventLoopDelayMax: number;
  cpuMs: number;
  connections: number;
  maxInFlight: number;
  /** Requests sent while every connection was busy (they waited in the pool). */
  waitedForConnection: number;
  errorsByCode: Record<string, number>;
};

export type OpenLoopResult = { phases: PhaseReport[]; generator: GeneratorReport };

export async function runOpenLoop(
  plan: OpenLoopPlan,
  onStart: (epochMs: number) => void = () => {},
): Promise<OpenLoopResult> {
  const url = new URL(plan.url);
  const connections = plan.connections ?? 2000;
  const lateMs = plan.lateMs ?? 5;
  const timeoutMs = plan.timeoutMs ?? 30_000;
  const schedule = buildSchedule(plan.phases);
  const n = schedule.due.length;
  const latency = new Float64Array(n).fill(Number.NaN);
  const ok = new Uint8Array(n);
  const lag = new Float64Array(n);
  const errorsByCode: Record<string, number> = {};
  const pool = new Pool(url.origin, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 60_000,
  });
  const headers = { 'content-type': 'application/json' };
  const path = url.pathname + url.search;
  let inFlight = 0;
  let maxInFlight = 0;
  let waited = 0;
  let late = 0;
  const pending: Promise<void>[] = [];

  const fire = async (i: number, due: number) => {
    inFlight++;
    if (inFlight > connections) waited++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const res = await pool.request({ path, method: 'POST', headers, body: plan.body });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        latency[i] = performance.now() - due;
        ok[i] = 1;
      } else
        errorsByCode[`http_${res.statusCode}`] = (errorsByCode[`http_${res.statusCode}`] ?? 0) + 1;
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).name;
      errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
    } finally {
      inFlight--;
    }
  };

  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  onStart(Date.now());
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < n && start + schedule.due[next]! <= now) {
        const due = start + schedule.due[next]!;
        const l = now - due;
        lag[next] = l;
        if (l > lateMs) late++;
        pending.push(fire(next, due));
        next++;
      }
      if (next < n) setTimeout(tick, Math.max(0, start + schedule.due[next]! - performance.now()));
      else done();
    };
    tick();
  });
  await Promise.all(pending);
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  await pool.close();

  const outcomes = Array.from({ length: n }, (_, i) => ({ latency: latency[i]!, ok: ok[i] === 1 }));
  const lags = Array.from(lag).sort((a, b) => a - b);
  return {
    phases: summarizePhases(plan.phases, schedule, outcomes, plan.stepSeconds ?? 5),
    generator: {
      sent: n,
      late,
      lateMs,
      sendLagP99: percentile(lags, 0.99),
      sendLagMax: lags.at(-1) ?? 0,
      eventLoopDelayP99: delay.percentile(99) / 1e6,
      eventLoopDelayMax: delay.max / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000,
      connections,
      maxInFlight,
      waitedForConnection: waited,
      errorsByCode,
    },
  };
}

export type RunningGenerator = {
  pid: number;
  /** Wall-clock time (epoch ms) when the first request was due. */
  started: Promise<number>;
  /** Resolves when the result arrives; the process stays until close(), so its CPU can still be read. */
  result: Promise<OpenLoopResult>;
  close(): Promise<void>;
};

/** Starts the generator in a child process. */
export function spawnOpenLoop(plan: OpenLoopPlan): RunningGenerator {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, JSON.stringify(plan)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let onStarted: (t: number) => void = () => {};
  const started = new Promise<number>((resolve) => (onStarted = resolve));
  const result = new Promise<OpenLoopResult>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('start ')) onStarted(Number(line.slice(6)));
      else if (line.startsWith('{')) resolve(JSON.parse(line) as OpenLoopResult);
    });
    void exit.then((code) =>
      reject(new Error(`the load generator exited with ${code} before its result:\n${stderr}`)),
    );
  });
  result.catch(() => onStarted(Number.NaN));
  const close = async () => {
    child.stdin.end();
    await exit;
  };
  return { pid: child.pid!, started, result, close };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const plan = JSON.parse(process.argv[2] ?? '') as OpenLoopPlan;
  const result = await runOpenLoop(plan, (t) => process.stdout.write(`start ${t}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Stay (idle) until the parent has read this process's CPU time.
  process.stdin.resume();
  process.stdin.once('end', () => process.exit(0));
}
