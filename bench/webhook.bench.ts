// Webhook benchmark: webhook -> set -> respond, many concurrent clients,
// against real processes on PostgreSQL (and Redis in queue mode). Prints
// executions/s at saturation (autocannon, closed loop) and p50/p99 latency
// at a steady 200 requests/s (open loop, constant-rate.ts: one request every
// 5 ms, latency from when it was due), for the embedded queue and for queue
// mode with 1 and 2 workers.
// Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 64).
import { randomUUID } from 'node:crypto';

import autocannon from 'autocannon';

import { createServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import { BullmqQueue } from '../src/queue/bullmq-queue.ts';
import type { WardenProcess } from '../test/helpers/processes.ts';
import { freePort, killAll, startWarden } from '../test/helpers/processes.ts';
import { createTestDatabase, testRedisUrl } from '../test/helpers/servers.ts';
import { webhookSetRespond } from '../test/helpers/workflows.ts';
import { constantRate } from './constant-rate.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const body = JSON.stringify({ name: 'bench', n: 21 });

type Row = {
  mode: string;
  execPerSec: number;
  satP50: number;
  satP99: number;
  rate200P50: number;
  rate200P99: number;
  errors: number;
};

async function load(url: string, options: { connections: number }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: options.connections,
    duration: seconds,
  });
  return {
    ok: result['2xx'],
    perSec: result['2xx'] / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function runMode(mode: string, workers: number): Promise<Row> {
  const db = await createTestDatabase();
  const queueName = `bench-${randomUUID()}`;
  const redis = workers > 0;
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '20',
    LOG_LEVEL: 'warn',
    WARDEN_WORKER_CONCURRENCY: '64',
    WARDEN_QUEUE_NAME: queueName,
    WARDEN_QUEUE_PREFIX: 'warden-bench',
    ...(redis ? { REDIS_URL: testRedisUrl } : {}),
  };
  const procs: WardenProcess[] = [];
  try {
    const config = loadConfig({ env: { ...env, LOG_LEVEL: 'silent', REDIS_URL: undefined } });
    const services = await createServices(config, createLogger({ level: 'silent' }));
    const path = `bench-${randomUUID()}`;
    const wf = await services.engine.createWorkflow(webhookSetRespond(path));
    await services.engine.setActive(wf.id, true);
    await services.close();

    const port = await freePort();
    const args = ['start', '--port', String(port), '--host', '127.0.0.1'];
    if (redis) args.push('--role', 'main');
    const up = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    procs.push(await startWarden(args, env, up));
    for (let i = 0; i < workers; i++)
      procs.push(
        await startWarden(
          ['worker', '--concurrency', '64'],
          { ...env, LOG_LEVEL: 'info' },
          /worker is consuming/,
        ),
      );
    const url = `http://127.0.0.1:${port}/webhook/${path}`;
    await load(url, { connections: 8 }); // warm-up
    // Latency at a steady rate first, then saturation: the other order would
    // measure the latency while the database cleans up after the saturation
    // run (autovacuum of thousands of fresh executions).
    const fixed = await constantRate({ url, body, ratePerSec: 200, seconds });
    const sat = await load(url, { connections });
    const row = {
      mode,
      execPerSec: Math.round(sat.perSec),
      satP50: sat.p50,
      satP99: sat.p99,
      rate200P50: Number(fixed.p50.toFixed(1)),
      rate200P99: Number(fixed.p99.toFixed(1)),
      errors: sat.errors + fixed.errors,
    };
    console.log(JSON.stringify(row));
    return row;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    if (redis) {
      const q = new BullmqQueue({ url: testRedisUrl, name: queueName, prefix: 'warden-bench' });
      await q.obliterate().catch(() => {});
      await q.close();
    }
    await db.drop();
  }
}

const rows: Row[] = [];
try {
  rows.push(await runMode('embedded (PostgreSQL)', 0));
  rows.push(await runMode('queue, 1 worker', 1));
  rows.push(await runMode('queue, 2 workers', 2));
} finally {
  await killAll();
}
console.log(
  `\nwebhook -> set -> respond, ${seconds} s per run, ${connections} connections at saturation`,
);
console.log('| mode | executions/s | p50 ms | p99 ms | p50 ms @200/s | p99 ms @200/s | errors |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.mode} | ${r.execPerSec} | ${r.satP50} | ${r.satP99} | ${r.rate200P50} | ${r.rate200P99} | ${r.errors} |`,
  );
