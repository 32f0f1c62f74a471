// A private supervisord (Debian's supervisor package) running the demo web
// service, for tests that break a service and watch Warden heal it.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from './cli.ts';

const demoScript = fileURLToPath(new URL('../fixtures/demo-service.mjs', import.meta.url));

export type Supervisor = {
  dir: string;
  configPath: string;
  /** Where the demo service answers when it runs. */
  demoUrl: string;
  /** supervisorctl with this supervisor's config. */
  ctl(...args: string[]): string;
  demoPid(): number;
  /** Kills the demo service outright; supervisord leaves it down (autorestart=false). */
  killDemo(): void;
  waitForDemo(up: boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

export async function startSupervisor(program = 'demo'): Promise<Supervisor> {
  // Not under /tmp: the sandbox gives every action a private /tmp, and
  // supervisorctl must reach the socket.
  const dir = mkdtempSync(join('/var/tmp', 'warden-supervisor-'));
  const port = await freePort();
  const configPath = join(dir, 'supervisord.conf');
  writeFileSync(
    configPath,
    `[unix_http_server]
file=${dir}/supervisor.sock
chmod=0700

[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${dir}/supervisor.sock

[program:${program}]
command=${process.execPath} ${demoScript} ${port}
autostart=true
autorestart=false
startsecs=1
stdout_logfile=${dir}/${program}.out.log
stderr_logfile=${dir}/${program}.err.log
`,
  );
  const child: ChildProcess = spawn('supervisord', ['-c', configPath], { stdio: 'ignore' });
  const ctl = (...args: string[]) => {
    try {
      return execFileSync('supervisorctl', ['-c', configPath, ...args], { encoding: 'utf8' });
    } catch (err) {
      // supervisorctl exits non-zero for stopped programs; its output still answers.
      return String((err as { stdout?: string }).stdout ?? '');
    }
  };
  const demoUrl = `http://127.0.0.1:${port}`;
  const isUp = async () => {
    try {
      return (await fetch(`${demoUrl}/health`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  };
  // Up means answering and past supervisord's startsecs (RUNNING): a kill
  // before that reads as "exited too quickly", a different failure from a
  // process that died while running, and healing rightly tells them apart.
  const isRunning = async () => (await isUp()) && /\bRUNNING\b/.test(ctl('status', program));
  const waitForDemo = async (up: boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while ((up ? await isRunning() : await isUp()) !== up) {
      if (Date.now() > deadline)
        throw new Error(`demo service did not become ${up ? 'up' : 'down'}: ${ctl('status')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await waitForDemo(true);
  return {
    dir,
    configPath,
    demoUrl,
    ctl,
    demoPid: () => Number(ctl('pid', program).trim()),
    killDemo() {
      process.kill(Number(ctl('pid', program).trim()), 'SIGKILL');
    },
    waitForDemo,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
