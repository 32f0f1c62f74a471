// Alert-to-fix-dispatched latency of the known-fix path (no model): an alert
// is ingested, the incident opens, the auto-heal workflow runs, memory finds
// the verified fix among 10k incidents, its evidence is checked (a log line
// of the alert and one local probe, `uptime`) and the gate dispatches it. The
// clock stops when the sandbox starts the fix's process (the process starter
// is swapped for one that notes the time and runs /bin/true for the fix; the
// probe and the collector run for real).
// The first few alerts warm the JIT and the caches and are not counted.
//   BENCH_INCIDENTS (default 10000), BENCH_TRIALS (default 100)
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import type { Spawner } from '../src/exec/sandbox-runner.ts';
import { installAutoHeal } from '../src/healing/auto-heal.ts';
import { mineTemplates } from '../src/healing/log-templates.ts';
import { createLogger } from '../src/log.ts';

const incidents = Number(process.env.BENCH_INCIDENTS ?? 10_000);
const trials = Number(process.env.BENCH_TRIALS ?? 100);
const warmup = 5;

const services = ['web', 'api', 'db', 'cache', 'queue', 'mail', 'search', 'auth', 'billing', 'cdn'];
const problems = [
  'disk full on /var',
  'out of memory, process killed',
  'certificate expired',
  'connection pool exhausted',
  'high load average',
  'too many open files',
  'DNS resolution failing',
  'replication lag above 30 s',
  'upstream timed out',
  'health check returns 500',
];

const clock = { dispatchedAt: 0 };
const starter = ((command: string, args: readonly string[], options: SpawnOptions) => {
  if (!args.includes('restart')) return spawn(command, args, options) as ChildProcess;
  clock.dispatchedAt = performance.now();
  return spawn('/bin/true', [], options) as ChildProcess;
}) as Spawner;

const dir = mkdtempSync(join(tmpdir(), 'warden-bench-heal-'));
const config = loadConfig({
  env: {
    WARDEN_DATA_DIR: dir,
    LOG_LEVEL: 'silent',
    MEMORY_EMBEDDER: 'lexical',
    OLLAMA_URL: 'http://127.0.0.1:1',
    WARDEN_EXEC_ALLOWED_UNITS: 'demo',
    WARDEN_EXEC_BWRAP: 'off',
    WARDEN_HEAL_EVIDENCE_ACTIONS: 'system.resources',
    WARDEN_HEAL_VERIFY_INTERVAL_MS: '50',
    // The trials open 100+ incidents of one service within a minute, one
    // after another: the storm rules would (rightly) group them and pause.
    // This measures the path of one alert, so they are set out of reach.
    WARDEN_HEAL_STORM_GROUP_AFTER: '1000000',
    WARDEN_HEAL_STORM_PAUSE_AFTER: '1000000',
  },
  cwd: dir,
});
const s = await createServices(config, createLogger({ level: 'silent' }), { spawn: starter });
try {
  const seedStart = performance.now();
  await s.memory.remember({
    title: 'demo is down: request failed: ECONNREFUSED',
    symptoms: 'the demo web service does not answer its health check',
    service: 'demo',
    rootCause: 'the demo process exited',
    fix: { action: 'supervisor.restart', parameters: { program: 'demo' } },
    outcome: 'resolved',
    verified: true,
    logExcerpt: 'systemd[1]: demo.service: Main process exited, code=killed, status=9/KILL',
    evidence: mineTemplates(['demo.service: Main process exited, code=killed, status=9/KILL']),
    probes: [{ action: 'load.average', parameters: {}, expect: 'load average' }],
  });
  for (let i = 1; i < incidents; i++) {
    const svc = services[i % services.length]!;
    const problem = problems[Math.floor(i / services.length) % problems.length]!;
    await s.memory.remember({
      title: `${svc}-${i % 97} ${problem}`,
      symptoms: `${problem} on ${svc} host ${i % 31}`,
      service: svc,
      rootCause: `${problem} (case ${i})`,
      fix: { action: 'unit.restart', parameters: { unit: `${svc}.service` } },
      outcome: 'resolved',
      verified: i % 3 === 0,
    });
    if (i % 1000 === 0) process.stdout.write(`seeded ${i}/${incidents} incidents\n`);
  }
  console.log(
    `seeded ${incidents} incidents in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  await installAutoHeal(s.engine);
  await s.engine.startWorker(2);
  const latencies: number[] = [];
  for (let t = -warmup; t < trials; t++) {
    clock.dispatchedAt = 0;
    const alert = {
      source: 'alertmanager' as const,
      fingerprint: `bench-${t}`,
      service: 'demo',
      severity: 'critical' as const,
      summary: 'demo is down: request failed: ECONNREFUSED',
      labels: { service: 'demo' },
      annotations: {
        logs: `Dec  1 03:04:0${t & 7} host systemd[1]: demo.service: Main process exited, code=killed, status=9/KILL`,
      },
      startsAt: new Date(),
      endsAt: null,
      raw: {},
    };
    const start = performance.now();
    const [result] = await s.incidents.ingest([{ ...alert, status: 'firing' }]);
    while (clock.dispatchedAt === 0) {
      if (performance.now() - start > 30_000) {
        const { events } = await s.incidents.show(result!.incidentId!);
        throw new Error(
          `trial ${t}: no fix dispatched within 30 s:\n${events.map((e) => `${e.type}: ${e.message}`).join('\n')}`,
        );
      }
      await new Promise((r) => setImmediate(r));
    }
    if (t >= 0) latencies.push(clock.dispatchedAt - start);
    // The sender resolves the alert: that is the verification, and the fix stays trusted.
    await s.incidents.ingest([{ ...alert, status: 'resolved', endsAt: new Date() }]);
    const id = result!.incidentId!;
    for (let i = 0; i < 600; i++) {
      const { events } = await s.incidents.show(id);
      if (events.some((e) => e.type === 'memory.stored')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(
    `alert -> known fix dispatched (${incidents} incidents in memory, ${trials} alerts after ${warmup} to warm up, PGlite, embedded queue):` +
      ` p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms (target: p99 < 100 ms)`,
  );
} finally {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
}
