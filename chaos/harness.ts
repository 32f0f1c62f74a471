// What every chaos scenario needs: a private PostgreSQL cluster (initdb on a
// free port, stopped and started at will; never a shared server), a private
// redis-server, real Warden processes, a side-effect sink, a load of webhook
// calls whose answers are tallied, and the figures each scenario prints.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import type { Services } from '../src/app.ts';
import { createServices } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { createLogger } from '../src/log.ts';
import type { HttpSink } from '../test/helpers/effect-sink.ts';
import type { WardenProcess } from '../test/helpers/processes.ts';
import { freePort, startWarden, testEncryptionKey } from '../test/helpers/processes.ts';

export { freePort, startWarden, testEncryptionKey };
export { startPrivateRedis } from '../test/helpers/processes.ts';
export { startHttpSink } from '../test/helpers/effect-sink.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { sleep };

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort().reverse() : [];
  for (const v of versions)
    if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name);
  return name;
}

export type PrivatePostgres = {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
};

/** A PostgreSQL cluster of its own: initdb in a temp directory, a free port, trust auth. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-chaos-pg-'));
  chmodSync(dir, 0o700);
  const port = await freePort();
  // initdb and postgres refuse to run as root: run them as the postgres user when we are root.
  const asUser = process.getuid?.() === 0;
  if (asUser) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const run = (bin: string, args: string[]) => {
    const cmd = asUser ? 'runuser' : pgBin(bin);
    const full = asUser ? ['-u', 'postgres', '--', pgBin(bin), ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () =>
    run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = async () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Services in this process, to set a database up before Warden processes use it. */
export async function setupServices(env: Record<string, string>): Promise<Services> {
  const config = loadConfig({
    env: { LOG_LEVEL: 'silent', WARDEN_ENCRYPTION_KEY: testEncryptionKey, ...env },
    cwd: tmpdir(),
  });
  return createServices(config, createLogger({ level: 'silent' }));
}

/** The webhook workflow the load uses: a side effect (with a verify probe), then an answer. */
export function effectWorkflow(sinkUrl: string, path: string) {
  return {
    name: `chaos ${path}`,
    nodes: [
      { id: '1', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
      {
        id: '2',
        name: 'Effect',
        type: 'httpRequest',
        parameters: {
          url: `${sinkUrl}/effect?key={{ body.key }}`,
          method: 'POST',
          verifyUrl: `${sinkUrl}/verify?key={{ body.key }}`,
          timeoutMs: 10_000,
        },
      },
      { id: '3', name: 'Respond', type: 'respondToWebhook', parameters: { statusCode: 200 } },
    ],
    connections: {
      Hook: { main: [[{ node: 'Effect', index: 0 }]] },
      Effect: { main: [[{ node: 'Respond', index: 0 }]] },
    },
    settings: {},
  };
}

/** Webhook calls at a steady pace; each answer is tallied by status. */
export class Load {
  readonly answers = new Map<string, number>();
  readonly accepted = new Set<string>();
  private phase = 'before';
  private readonly byPhase = new Map<string, Map<string, number>>();
  private stopped = false;
  private n = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly url: () => string,
    private readonly perSecond = 10,
  ) {}

  setPhase(p: string): void {
    this.phase = p;
  }

  start(): void {
    this.running = (async () => {
      const inFlight = new Set<Promise<void>>();
      while (!this.stopped) {
        const p = this.one().finally(() => inFlight.delete(p));
        inFlight.add(p);
        await sleep(1000 / this.perSecond);
      }
      await Promise.all(inFlight);
    })();
  }

  private async one(): Promise<void> {
    const key = `k${process.pid}-${++this.n}-${Date.now()}`;
    const phase = this.phase;
    let label: string;
    try {
      const res = await fetch(this.url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
        signal: AbortSignal.timeout(30_000),
      });
      label = String(res.status);
      const id = res.headers.get('x-warden-execution-id');
      if (res.status < 300 || id) this.accepted.add(key);
      await res.text();
    } catch (err) {
      label = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    }
    const m = this.byPhase.get(phase) ?? new Map<string, number>();
    m.set(label, (m.get(label) ?? 0) + 1);
    this.byPhase.set(phase, m);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Answers of one phase as "200×12 503×3". */
  tally(phase: string): string {
    const m = this.byPhase.get(phase);
    if (!m) return '-';
    return [...m.entries()]
      .sort()
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
  }
}

/** Polls until fn is true or timeoutMs passed; returns ms taken, or undefined. */
export async function until(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 200,
): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn().catch(() => false)) return Date.now() - t0;
    await sleep(everyMs);
  }
  return undefined;
}

export async function ready(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
  return res.status === 200;
}

/** Queries a database once, on a short-lived connection. */
export async function queryOnce<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Tracks exits of Warden processes that the scenario did not cause. */
export class ExitWatch {
  unexpected = 0;
  readonly notes: string[] = [];
  private readonly expected = new WeakSet<ChildProcess>();

  watch(p: WardenProcess, name: string): WardenProcess {
    p.child.once('exit', (code, signal) => {
      if (this.expected.has(p.child)) return;
      this.unexpected++;
      this.notes.push(
        `${name} exited (code ${code}, signal ${signal}):\n${p.output().slice(-3000)}`,
      );
    });
    return p;
  }

  /** A kill or stop the scenario does on purpose. */
  expect(p: WardenProcess): void {
    this.expected.add(p.child);
  }
}

export type Figures = {
  scenario: string;
  exits: number;
  lostExecutions: number | string;
  lostAlerts: number | string;
  repeatedEffects: number;
  stranded: number | string;
  recoveryMs: number | string;
  duringFault: string;
  notes?: string;
};

export function effectsRepeated(sink: HttpSink): number {
  return [...sink.effects.values()].filter((n) => n > 1).length;
}

/** Executions still running or queued (or waiting) in the database. */
export async function unfinished(url: string): Promise<number> {
  const rows = await queryOnce<{ n: number }>(
    url,
    "SELECT count(*)::int AS n FROM executions WHERE status IN ('queued', 'running', 'waiting')",
  );
  return Number(rows[0]!.n);
}

/** Accepted webhook keys whose side effect never happened. */
export function lostKeys(load: Load, sink: HttpSink): number {
  return [...load.accepted].filter((k) => !sink.effects.has(k)).length;
}

export function printFigures(all: Figures[]): void {
  const cols: [keyof Figures, string][] = [
    ['scenario', 'scenario'],
    ['exits', 'process exits'],
    ['lostExecutions', 'executions lost'],
    ['lostAlerts', 'alerts lost'],
    ['repeatedEffects', 'effects repeated'],
    ['stranded', 'stranded 60 s after'],
    ['recoveryMs', 'recovery ms'],
    ['duringFault', 'answers during the fault'],
  ];
  console.log(`| ${cols.map((c) => c[1]).join(' | ')} |`);
  console.log(`| ${cols.map(() => '---').join(' | ')} |`);
  for (const f of all) console.log(`| ${cols.map(([k]) => String(f[k] ?? '')).join(' | ')} |`);
  for (const f of all) if (f.notes) console.log(`\n${f.scenario}: ${f.notes}`);
}

export type { HttpSink, Services, WardenProcess };
