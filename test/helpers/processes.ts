// Real Warden processes for multi-process tests: started with `node
// bin/warden.js ...`, ready when a log line says so, always cleaned up.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
const running = new Set<ChildProcess>();

export type WardenProcess = {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGTERM, then wait for the exit (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
};

export const testEncryptionKey = 'a'.repeat(64);

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

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `warden <args>` and waits until its output matches ready (or ready() is true). */
export async function startWarden(
  args: string[],
  env: Record<string, string>,
  ready: RegExp | (() => Promise<boolean>),
  timeoutMs = 60_000,
): Promise<WardenProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-proc-'));
  const child = spawn(process.execPath, [bin, ...args], {
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      WARDEN_DATA_DIR: dataDir,
      WARDEN_ENCRYPTION_KEY: testEncryptionKey,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.once('exit', () => {
    running.delete(child);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const proc: WardenProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    async stop(stopTimeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      try {
        return await exited(child);
      } finally {
        clearTimeout(t);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
  const until = Date.now() + timeoutMs;
  const isReady = async () =>
    ready instanceof RegExp ? ready.test(out) : await ready().catch(() => false);
  while (!(await isReady())) {
    if (child.exitCode !== null) throw new Error(`warden ${args.join(' ')} exited early:\n${out}`);
    if (Date.now() > until) {
      await proc.kill();
      throw new Error(`warden ${args.join(' ')} was not ready within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

/** Kills every process these helpers started and that still runs. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...running].map((c) => {
      c.kill('SIGKILL');
      return exited(c);
    }),
  );
}

export type RedisServer = {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
};

/** A private redis-server on its own loopback port, without persistence. */
export async function startPrivateRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    const c = child;
    c.once('exit', () => running.delete(c));
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(out)) {
      if (c.exitCode !== null || Date.now() > until)
        throw new Error(`redis-server failed:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}
