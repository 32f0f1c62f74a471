// Runs the real `warden` binary as a child process.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const wardenBin = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

export type RunResult = { code: number | null; stdout: string; stderr: string };

export function runWarden(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wardenBin, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export type RunningWarden = {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/** Starts `warden start` and waits until /healthz answers (or the process exits). */
export async function startWarden(options: {
  cwd: string;
  env?: Record<string, string>;
  args?: string[];
  waitMs?: number;
}): Promise<RunningWarden> {
  const port = Number(options.env?.WARDEN_PORT ?? (await freePort()));
  const child = spawn(process.execPath, [wardenBin, 'start', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      WARDEN_HOST: '127.0.0.1',
      WARDEN_PORT: String(port),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  while (Date.now() < deadline && exitCode === undefined) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exitCode !== undefined) throw new Error(`warden start exited with ${exitCode}:\n${out}`);
  if (Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`warden start did not answer /healthz:\n${out}`);
  }
  return {
    child,
    port,
    url,
    output: () => out,
    async stop(signal = 'SIGINT') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
