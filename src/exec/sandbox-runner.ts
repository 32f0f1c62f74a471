// Runs one argv that policy already allowed. No shell, ever: spawn with an
// argv array and shell:false; a fixed minimal environment; a fresh working
// directory under the sandbox root; its own process group, killed whole at
// the timeout; stdout and stderr capped; optionally another uid/gid and
// bubblewrap (read-only root, private /tmp, no network for read actions).
// At most `concurrency` commands run at once; the rest wait their turn.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawn as nodeSpawn, spawnSync } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { OperationalError, UserError } from '../errors.ts';
import { fixedPath, resolveOnFixedPath } from './command-policy.ts';

export type Spawner = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

export type RunRequest = {
  /** Absolute path of the program; argv[0] is only its name. */
  executable: string;
  argv: readonly string[];
  risk: 'read' | 'change' | 'dangerous';
  /** Share the host's network inside bubblewrap. @default risk !== 'read' */
  network?: boolean;
  /** @default the runner's timeoutMs */
  timeoutMs?: number;
  /** Cap on each of stdout and stderr. @default the runner's outputCapBytes */
  outputCapBytes?: number;
  signal?: AbortSignal;
  /** Files the command reads (checked catalogue paths): bound read-only into the sandbox, which hides /tmp. */
  readPaths?: readonly string[];
};

export type RunResult = {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
  sandbox: 'bwrap' | 'none';
};

export type SandboxRunnerOptions = {
  /** Parent of each command's working directory. */
  root: string;
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 65536 */
  outputCapBytes?: number;
  /** @default 4 */
  concurrency?: number;
  /** auto: use bubblewrap when installed. @default 'auto' */
  bwrap?: 'auto' | 'on' | 'off';
  /** Run as this user. @default Warden's own */
  uid?: number;
  gid?: number;
  /** Starts processes; tests inject a counting one. @default child_process.spawn */
  spawn?: Spawner;
};

/** The whole environment a command sees. */
export const fixedEnv: Readonly<Record<string, string>> = Object.freeze({
  PATH: fixedPath.join(':'),
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  HOME: '/nonexistent',
  SYSTEMD_PAGER: '',
  SYSTEMD_COLORS: '0',
  PAGER: 'cat',
  TERM: 'dumb',
});

class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

export class SandboxRunner {
  /** bwrap when installed (and not turned off); cleared in auto mode when it cannot run here. */
  bwrapPath: string | undefined;
  private bwrapChecked = false;
  private readonly bwrapMode: 'auto' | 'on' | 'off';
  private readonly slots: Semaphore;
  private readonly spawn: Spawner;

  constructor(private readonly options: SandboxRunnerOptions) {
    this.slots = new Semaphore(options.concurrency ?? 4);
    this.spawn = options.spawn ?? nodeSpawn;
    const mode = options.bwrap ?? 'auto';
    this.bwrapMode = mode;
    this.bwrapPath = mode === 'off' ? undefined : resolveOnFixedPath('bwrap');
    if (mode === 'on' && !this.bwrapPath)
      throw new UserError('bwrap_missing', 'WARDEN_EXEC_BWRAP=on but bwrap is not installed');
  }

  async run(req: RunRequest): Promise<RunResult> {
    if (!req.executable.startsWith('/'))
      throw new UserError('exec_not_absolute', 'executable must be an absolute path');
    const release = await this.slots.acquire();
    let cwd: string | undefined;
    try {
      this.checkRoot();
      this.checkBwrap();
      cwd = mkdtempSync(join(this.options.root, 'run-'));
      // The command's own user must be able to work in its directory.
      if (this.options.uid !== undefined)
        chownSync(cwd, this.options.uid, this.options.gid ?? this.options.uid);
      return await this.runIn(cwd, req);
    } finally {
      release();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    }
  }

  // bwrap is installed in many containers that cannot create namespaces;
  // find out once, before the first command, rather than fail every one.
  private checkBwrap(): void {
    if (this.bwrapChecked || !this.bwrapPath) return;
    this.bwrapChecked = true;
    const probe = spawnSync(
      this.bwrapPath,
      [
        '--ro-bind',
        '/',
        '/',
        '--unshare-pid',
        '--unshare-net',
        '--',
        resolveOnFixedPath('true') ?? '/bin/true',
      ],
      { stdio: 'ignore', timeout: 10_000, env: { ...fixedEnv } },
    );
    if (probe.status === 0) return;
    if (this.bwrapMode === 'on')
      throw new OperationalError(
        'bwrap_unusable',
        'WARDEN_EXEC_BWRAP=on but bwrap cannot create its namespaces here',
      );
    this.bwrapPath = undefined;
  }

  // Whoever controls the root can swap a run's directory under it: it must
  // be a real directory of ours that nobody else can write.
  private checkRoot(): void {
    const root = this.options.root;
    mkdirSync(root, { recursive: true, mode: 0o711 });
    const st = lstatSync(root);
    const uid = process.getuid?.();
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0)
      throw new UserError(
        'exec_root_unsafe',
        `${root} must be a directory owned by this user and not writable by group or others`,
      );
  }

  private command(cwd: string, req: RunRequest): { file: string; args: string[] } {
    const args = req.argv.slice(1) as string[];
    if (!this.bwrapPath) return { file: req.executable, args };
    const box = [
      '--ro-bind', '/', '/',
      '--dev', '/dev',
      '--proc', '/proc',
      '--tmpfs', '/tmp',
      ...(req.readPaths ?? []).flatMap((p) => ['--ro-bind', p, p]),
      '--bind', cwd, cwd,
      '--unshare-pid', '--unshare-ipc', '--unshare-uts',
      '--die-with-parent', '--new-session',
      '--chdir', cwd,
    ]; // prettier-ignore
    if (!(req.network ?? req.risk !== 'read')) box.push('--unshare-net');
    return { file: this.bwrapPath, args: [...box, '--', req.executable, ...args] };
  }

  private runIn(cwd: string, req: RunRequest): Promise<RunResult> {
    const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    const cap = req.outputCapBytes ?? this.options.outputCapBytes ?? 65_536;
    const { file, args } = this.command(cwd, req);
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn(file, args, {
          shell: false,
          cwd,
          env: { ...fixedEnv },
          ...(this.bwrapPath ? {} : { argv0: req.argv[0] }),
          detached: true, // its own process group, so a timeout kills grandchildren too
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
          ...(this.options.uid !== undefined ? { uid: this.options.uid } : {}),
          ...(this.options.gid !== undefined ? { gid: this.options.gid } : {}),
        });
      } catch (err) {
        reject(err);
        return;
      }
      const out = {
        stdout: [] as Buffer[],
        stderr: [] as Buffer[],
        bytes: { stdout: 0, stderr: 0 },
      };
      let truncated = false;
      let timedOut = false;
      const collect = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
        const room = cap - out.bytes[which];
        if (room <= 0) {
          truncated = true;
          return;
        }
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (part.length < chunk.length) truncated = true;
        out[which].push(part);
        out.bytes[which] += part.length;
      };
      child.stdout?.on('data', collect('stdout'));
      child.stderr?.on('data', collect('stderr'));
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      const onAbort = () => killGroup();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        // Leftover members of the group (a daemonising child) go too.
        killGroup();
        resolve({
          exitCode: code,
          signal,
          stdout: Buffer.concat(out.stdout).toString('utf8'),
          stderr: Buffer.concat(out.stderr).toString('utf8'),
          truncated,
          timedOut,
          durationMs: Number((process.hrtime.bigint() - started) / 1_000_000n),
          sandbox: this.bwrapPath ? 'bwrap' : 'none',
        });
      });
    });
  }
}
