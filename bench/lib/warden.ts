// Warden as users run it: `node bin/warden.js ...` (compiled dist/ when it
// is up to date), set up through its own CLI (import the workflow, create a
// viewer API key for /metrics) before the processes start, with a private
// data directory, a fresh PostgreSQL database and a private redis-server
// per mode. Also the reads of the execution records the figures are checked
// against.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

const bin = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment of a Warden process: the caller's without any Warden
 * setting (a DATABASE_URL in the shell must not turn the PGlite mode into a
 * PostgreSQL one), plus the mode's. Warden also reads a .env file in its
 * working directory, so the processes run in the mode's data directory.
 */
function wardenEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(WARDEN_|DATABASE_|REDIS_|QDRANT_|OLLAMA_|LLM_|MEMORY_|LOG_LEVEL$)/.test(k),
    ),
  );
  return { ...inherited, ...env };
}

/** Runs one CLI command to its end; its stdout, or an error with everything it printed. */
export function runCli(args: string[], env: Record<string, string>, cwd: string): string {
  const res = spawnSync(process.execPath, [bin, ...args], {
    env: wardenEnv(env),
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (res.status !== 0)
    throw new Error(`warden ${args.join(' ')} failed (${res.status}):\n${res.stdout}${res.stderr}`);
  return res.stdout;
}

export type Proc = {
  name: string;
  pid: number;
  /** The last 20 kB of what it printed. */
  output(): string;
  stop(timeoutMs?: number): Promise<void>;
};

const children = new Set<ChildProcess>();

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startProc(o: {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  ready: RegExp | (() => Promise<boolean>);
  timeoutMs?: number;
}): Promise<Proc> {
  const child = spawn(o.command, o.args, {
    env: o.env ?? process.env,
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 40_000) out = out.slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const proc: Proc = {
    name: o.name,
    pid: child.pid!,
    output: () => out.slice(-20_000),
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited(child);
      clearTimeout(t);
    },
  };
  const until = Date.now() + (o.timeoutMs ?? 120_000);
  const ready = async () =>
    o.ready instanceof RegExp ? o.ready.test(out) : await o.ready().catch(() => false);
  while (!(await ready())) {
    if (child.exitCode !== null) throw new Error(`${o.name} exited early:\n${out}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${o.name} was not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

export const startWardenProc = (
  name: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  ready: RegExp | (() => Promise<boolean>),
) =>
  startProc({
    name,
    command: process.execPath,
    args: [bin, ...args],
    env: wardenEnv(env),
    cwd,
    ready,
  });

/** Kills whatever this module started and still runs (after a failure). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map((c) => {
      c.kill('SIGKILL');
      return exited(c);
    }),
  );
}

/** A redis-server of the bench's own, configured like the shared one here (no snapshots, no AOF). */
export async function startRedis(): Promise<{ url: string; proc: Proc; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-redis-'));
  const proc = await startProc({
    name: 'redis-server',
    command: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    ready: /Ready to accept connections/,
  });
  return { url: `redis://127.0.0.1:${port}`, proc, dir };
}

export const adminPostgresUrl =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createDatabase(): Promise<{
  url: string;
  name: string;
  drop(): Promise<void>;
}> {
  const name = `warden_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminPostgresUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The benchmark's workflow: webhook -> set ok = body.n + 1 -> respond with it. */
export function benchWorkflow(path: string) {
  return {
    name: `bench ${path}`,
    nodes: [
      { id: 'a', name: 'Hook', type: 'webhook', parameters: { path, method: 'POST' } },
      {
        id: 'b',
        name: 'Set',
        type: 'set',
        parameters: { values: { ok: '={{ body.n + 1 }}' }, keepOnlySet: true },
      },
      { id: 'c', name: 'Respond', type: 'respondToWebhook', parameters: { statusCode: 200 } },
    ],
    connections: {
      Hook: { main: [[{ node: 'Set', index: 0 }]] },
      Set: { main: [[{ node: 'Respond', index: 0 }]] },
    },
    settings: {},
  };
}

/** Imports and activates the workflow and creates a viewer API key, through the CLI. */
export function setUpThroughCli(
  env: Record<string, string>,
  dataDir: string,
): { workflowId: number; path: string; apiKey: string } {
  const path = `bench-${randomUUID().slice(0, 8)}`;
  const file = join(dataDir, 'bench-workflow.json');
  writeFileSync(file, JSON.stringify(benchWorkflow(path)));
  const imported = JSON.parse(
    runCli(['workflows', 'import', file, '--activate', '--json'], env, dataDir),
  ) as { id: number }[];
  const key = JSON.parse(
    runCli(
      ['apikeys', 'create', '--name', 'bench-metrics', '--role', 'viewer', '--json'],
      env,
      dataDir,
    ),
  ) as { secret: string };
  return { workflowId: imported[0]!.id, path, apiKey: key.secret };
}

export type Window = { from: number; to: number };
export type RecordCounts = {
  /** Succeeded executions that finished inside the window. */
  finished: number;
  /** Executions created inside the window. */
  created: number;
  /** Of those created, how many did not end succeeded. */
  notSucceeded: number;
};

const countsSql = `
  SELECT count(*) FILTER (WHERE status = 'succeeded' AND finished_at >= $1 AND finished_at < $2) AS finished,
         count(*) FILTER (WHERE created_at >= $1 AND created_at < $2) AS created,
         count(*) FILTER (WHERE created_at >= $1 AND created_at < $2 AND status <> 'succeeded') AS not_succeeded
    FROM executions WHERE workflow_id = $3`;

type CountRow = {
  finished: string | number;
  created: string | number;
  not_succeeded: string | number;
};

const toCounts = (r: CountRow): RecordCounts => ({
  finished: Number(r.finished),
  created: Number(r.created),
  notSucceeded: Number(r.not_succeeded),
});

/** Runs the count for each window through either database's query function. */
async function countWindows(
  query: (sql: string, params: unknown[]) => Promise<{ rows: CountRow[] }>,
  workflowId: number,
  windows: Window[],
): Promise<RecordCounts[]> {
  const out: RecordCounts[] = [];
  for (const w of windows) {
    const { rows } = await query(countsSql, [
      new Date(w.from).toISOString(),
      new Date(w.to).toISOString(),
      workflowId,
    ]);
    out.push(toCounts(rows[0]!));
  }
  return out;
}

/** Counts in each window from PostgreSQL. */
export async function countRecordsPg(
  url: string,
  workflowId: number,
  windows: Window[],
): Promise<RecordCounts[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await countWindows((sql, params) => c.query<CountRow>(sql, params), workflowId, windows);
  } finally {
    await c.end();
  }
}

/** Counts in each window from the embedded database, opened once its process has stopped. */
export async function countRecordsPglite(
  dataDir: string,
  workflowId: number,
  windows: Window[],
): Promise<RecordCounts[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const db = await PGlite.create(join(dataDir, 'pglite'), { extensions: { vector } });
  try {
    return await countWindows(
      (sql, params) => db.query<CountRow>(sql, params),
      workflowId,
      windows,
    );
  } finally {
    await db.close();
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Waits until Warden has nothing of the workflow left to do: no execution
 * queued or running, and no new one for three polls in a row (requests a
 * client gave up on may still be in the server's backlog and become
 * executions later). Returns the seconds it took, or undefined on timeout.
 */
export async function waitForDrain(o: {
  baseUrl: string;
  apiKey: string;
  workflowId: number;
  timeoutMs: number;
}): Promise<number | undefined> {
  const started = Date.now();
  const get = async (query: string) => {
    const res = await fetch(
      `${o.baseUrl}/api/v1/executions?workflowId=${o.workflowId}&limit=1${query}`,
      { headers: { authorization: `Bearer ${o.apiKey}` } },
    );
    if (!res.ok) throw new Error(`GET /api/v1/executions answered ${res.status}`);
    return ((await res.json()) as { executions: { id: string }[] }).executions;
  };
  let last: string | undefined;
  let steady = 0;
  while (Date.now() - started < o.timeoutMs) {
    const [newest] = await get('');
    const busy = (await get('&status=queued')).length + (await get('&status=running')).length;
    steady = busy === 0 && newest?.id === last ? steady + 1 : 0;
    last = newest?.id;
    if (steady >= 3) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return undefined;
}
