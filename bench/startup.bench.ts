// Startup benchmark: how long a newcomer waits. Cold start of the embedded
// Warden (fresh data directory) to the first /healthz 200, a warm start on
// an existing data directory, and CLI latency: `warden --version`, and
// `warden workflows list --json` with no Warden running (opens the database)
// and beside a running one (through its API). Targets: cold start under 3 s,
// each CLI command under 0.5 s, on a quiet machine; the load average is
// printed with the figures because a busy machine moves them. A fresh data
// directory is seeded from the prepared template (dist/pglite-template, made
// by the build); the RSS right after the cold start is printed too (the
// figure after a load is bench/memory-footprint.bench.ts).
// Environment: BENCH_RUNS (default 3).
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from '../test/helpers/processes.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const bin = fileURLToPath(new URL('../bin/warden.js', import.meta.url));
const env = (dataDir: string, port: number) => ({
  PATH: process.env.PATH ?? '',
  HOME: dataDir,
  LOG_LEVEL: 'warn',
  WARDEN_DATA_DIR: dataDir,
  WARDEN_HOST: '127.0.0.1',
  WARDEN_PORT: String(port),
  OLLAMA_URL: 'http://127.0.0.1:9',
});

/** Resident memory of a live process in MB, from /proc; NaN elsewhere. */
function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) a live process has used, from /proc; NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (n: number) => `${Math.round(n)} ms`;

async function startTimed(
  dataDir: string,
): Promise<{ child: ChildProcess; ms: number; cpu: number; rss: number; port: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, 'start'], {
    cwd: dataDir,
    env: env(dataDir, port),
    stdio: 'ignore',
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`warden start exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, ms: performance.now() - t0, cpu: cpuMs(child.pid), rss: rssMb(child.pid), port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function cliTimed(args: string[], dataDir: string, port: number): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: dataDir,
    env: env(dataDir, port),
    encoding: 'utf8',
  });
  const took = performance.now() - t0;
  if (r.status !== 0) throw new Error(`warden ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return took;
}

const rows: { what: string; took: number; target: number }[] = [];
const record = (what: string, took: number, target: number) => {
  rows.push({ what, took, target });
  console.log(`${what}: ${ms(took)}`);
};
const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'warden-startup-'));
  dirs.push(d);
  return d;
};

try {
  const load = loadavg().map((l) => l.toFixed(2));
  const cold: number[] = [];
  const coldCpu: number[] = [];
  const coldRss: number[] = [];
  let dataDir = '';
  for (let i = 0; i < runs; i++) {
    dataDir = fresh();
    const s = await startTimed(dataDir);
    cold.push(s.ms);
    coldCpu.push(s.cpu);
    coldRss.push(s.rss);
    await stop(s.child);
  }
  record('cold start to /healthz 200', median(cold), 3000);
  // CPU time moves less than wall time on a busy machine (USER_HZ 100 assumed).
  console.log(
    `  (CPU used by the process until then: ${ms(median(coldCpu))}; RSS then: ${Math.round(median(coldRss))} MB)`,
  );

  const version = Array.from({ length: runs }, () => cliTimed(['--version'], dataDir, 9));
  record('warden --version', median(version), 500);
  const offline = Array.from({ length: runs }, () =>
    cliTimed(['workflows', 'list', '--json'], dataDir, 9),
  );
  record('workflows list, no Warden running', median(offline), 500);

  const warm = await startTimed(dataDir);
  record('warm start to /healthz 200', warm.ms, 3000);
  try {
    const online = Array.from({ length: runs }, () =>
      cliTimed(['workflows', 'list', '--json'], dataDir, warm.port),
    );
    record('workflows list, beside a running Warden', median(online), 500);
  } finally {
    await stop(warm.child);
  }

  console.log(
    `load average at start: ${load.join(' ')}; now: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`median of ${runs} run(s)\n`);
  console.log('| what | took | target | |\n| --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.what} | ${ms(r.took)} | < ${ms(r.target)} | ${r.took < r.target ? 'met' : 'missed'} |`,
    );
} finally {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
