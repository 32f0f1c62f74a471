// Which programs a free-form command may start, and for each the
// subcommands, flags and arguments it may take. Anything not listed here is
// refused: an allowlist, never a blocklist. Programs that run other programs
// or code are listed separately so their refusal says why.

export type ValueCheck = { name: string; test: (v: string) => boolean };

const re = (name: string, r: RegExp): ValueCheck => ({ name, test: (v) => r.test(v) });

export const checks = {
  unit: re('a unit name', /^[A-Za-z0-9][A-Za-z0-9@._:-]{0,127}$/),
  container: re('a container name or id', /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/),
  /** An absolute path of plain characters with no `..` segment. */
  path: {
    name: 'an absolute path without ..',
    test: (v: string) => /^\/[A-Za-z0-9._@+/-]*$/.test(v) && !v.split('/').includes('..'),
  },
  /** df's arguments: a path as above, not inside the kernel's /proc or /sys. */
  mountPath: {
    name: 'an absolute path without .., not inside /proc or /sys',
    test: (v: string) => {
      const segments = v.split('/').filter((s) => s !== '' && s !== '.');
      return (
        /^\/[A-Za-z0-9._@+/-]*$/.test(v) &&
        !segments.includes('..') &&
        !(segments.length > 1 && (segments[0] === 'proc' || segments[0] === 'sys'))
      );
    },
  },
  int: (min: number, max: number): ValueCheck => ({
    name: `an integer from ${min} to ${max}`,
    test: (v) => /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max,
  }),
  oneOf: (...values: string[]): ValueCheck => ({
    name: `one of ${values.join(', ')}`,
    test: (v) => values.includes(v),
  }),
  /** journalctl --since/--until: dates, times and the relative words. */
  // Never `--x`: that is an option, whatever the flag before it takes.
  time: re('a time (2024-01-31, 10:00, -1h, yesterday)', /^(?!--)[A-Za-z0-9: +-]{1,32}$/),
};

export type ArgRules = {
  /** Flags that take no value. */
  flags?: string[];
  /** Flags that take a value (`-n 50` or `--lines=50`). */
  valued?: Record<string, ValueCheck>;
  /** Short flags that may be combined (`-lah`). */
  letters?: string;
  /**
   * Positional arguments. `opens`: the program opens each one (df does, to
   * trigger automounts), so it must be a directory, regular file or block
   * device: opening a character device, FIFO or socket can act on its own
   * (a watchdog arms, a tape rewinds, a serial line raises DTR). @default none
   */
  positional?: { check: ValueCheck; max: number; opens?: boolean };
  /**
   * At least one of these flags must be given: without one the program does
   * something else than read (starts a daemon, streams until killed).
   */
  required?: string[];
};

export type ProgramRule = ArgRules & {
  /** Sees the host's network (sockets, interfaces) even in the sandbox. @default false */
  hostNetwork?: boolean;
  /** When set, the first word after the program must be one of these. */
  subcommands?: Record<string, ArgRules>;
};

const systemctlCommon = ['--no-pager', '--plain', '--no-legend', '--all', '-a', '--full', '-l'];
const unitArgs = { check: checks.unit, max: 8 };

export const programRules: Record<string, ProgramRule> = {
  df: {
    letters: 'hHTiklPa',
    flags: ['--total'],
    positional: { check: checks.mountPath, max: 8, opens: true },
  },
  free: { letters: 'bkmghwtl', flags: ['--si'] },
  uptime: { letters: 'ps' },
  uname: { letters: 'asnrvmpio' },
  hostname: {},
  whoami: {},
  id: { letters: 'ugnG' },
  nproc: {},
  date: { flags: ['-u', '-R', '--utc'] },
  lsblk: { letters: 'afmnpb' },
  ps: {
    flags: ['aux', 'auxf', '-ef', '-eF', '-ely', '-e', '-f', '--forest'],
    valued: {
      '--sort': checks.oneOf('-%cpu', '-%mem', '%cpu', '%mem', 'pid', '-rss', 'rss'),
      '-p': re('a process id', /^\d{1,9}$/),
    },
  },
  ss: {
    hostNetwork: true,
    letters: 'tulnpas46x',
  },
  ip: {
    hostNetwork: true,
    flags: ['-br', '-4', '-6', '-s', '-c'],
    subcommands: {
      addr: { flags: ['show'] },
      address: { flags: ['show'] },
      route: { flags: ['show'] },
      link: { flags: ['show'] },
    },
  },
  du: {
    letters: 'shxc',
    valued: { '--max-depth': checks.int(0, 5), '-d': checks.int(0, 5) },
    positional: { check: checks.path, max: 4 },
  },
  ls: { letters: 'lahtrSdi1', positional: { check: checks.path, max: 8 } },
  systemctl: {
    subcommands: {
      status: {
        flags: systemctlCommon,
        valued: { '-n': checks.int(0, 500), '--lines': checks.int(0, 500) },
        positional: unitArgs,
      },
      'is-active': { flags: [], positional: unitArgs },
      'is-failed': { flags: [], positional: unitArgs },
      'is-enabled': { flags: [], positional: unitArgs },
      // No `show`: it prints a unit's Environment=, which holds secrets.
      'list-units': {
        flags: [...systemctlCommon, '--failed'],
        valued: {
          '--type': checks.oneOf('service', 'timer', 'socket', 'mount'),
          '--state': checks.oneOf('failed', 'running', 'active', 'inactive'),
        },
      },
      'list-timers': { flags: systemctlCommon },
      '--failed': { flags: systemctlCommon },
    },
  },
  journalctl: {
    flags: ['--no-pager', '-b', '-k', '-x', '-r', '--reverse', '-q'],
    valued: {
      '-u': checks.unit,
      '--unit': checks.unit,
      '-n': checks.int(1, 1000),
      '--lines': checks.int(1, 1000),
      '-p': checks.oneOf(
        'emerg',
        'alert',
        'crit',
        'err',
        'warning',
        'notice',
        'info',
        'debug',
        '0',
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
      ),
      '--priority': checks.oneOf(
        'emerg',
        'alert',
        'crit',
        'err',
        'warning',
        'notice',
        'info',
        'debug',
      ),
      '--since': checks.time,
      '--until': checks.time,
      '-o': checks.oneOf('short', 'short-iso', 'short-precise', 'cat', 'json', 'verbose'),
      '--output': checks.oneOf('short', 'short-iso', 'short-precise', 'cat', 'json', 'verbose'),
    },
  },
  supervisorctl: {
    subcommands: {
      status: { positional: { check: checks.unit, max: 8 } },
      avail: {},
      version: {},
    },
  },
  docker: {
    subcommands: {
      ps: { flags: ['-a', '--all', '-q', '--quiet', '--no-trunc', '-s', '--size'] },
      logs: {
        flags: ['-t', '--timestamps'],
        valued: {
          '--tail': checks.int(1, 5000),
          '-n': checks.int(1, 5000),
          '--since': checks.time,
        },
        positional: { check: checks.container, max: 1 },
      },
      // No `inspect`: it prints the container's environment (secrets); the
      // docker.inspect action answers through the Engine API with it hidden.
      images: { flags: ['-a', '-q'] },
      // Without --no-stream it streams until the timeout, holding a slot.
      stats: {
        flags: ['--no-stream', '--no-trunc'],
        positional: { check: checks.container, max: 8 },
        required: ['--no-stream'],
      },
      version: {},
      info: {},
    },
  },
  pg_isready: {
    hostNetwork: true,
    flags: ['-q'],
    valued: {
      // Local servers only: this is no port scanner.
      '-h': checks.oneOf('127.0.0.1', 'localhost', '::1', '/var/run/postgresql', '/run/postgresql'),
      '-p': checks.int(1, 65535),
      // -t 0 waits forever.
      '-t': checks.int(1, 60),
      '-d': re('a database name', /^[A-Za-z0-9_]{1,63}$/),
      '-U': re('a role name', /^[A-Za-z0-9_]{1,63}$/),
    },
  },
  // Bare `nginx` (or `nginx -q`) starts the server, which daemonises out of
  // the command's process group: one of the modes that only print must be
  // given.
  nginx: { flags: ['-t', '-v', '-V', '-q'], required: ['-t', '-v', '-V'] },
};

/** Shells and language runtimes: each runs arbitrary code. */
export const interpreters = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'mksh',
  'csh',
  'tcsh',
  'fish',
  'ash',
  'rbash',
  'busybox',
  'toybox',
  'python',
  'python2',
  'python3',
  'pypy',
  'pypy3',
  'perl',
  'ruby',
  'irb',
  'php',
  'node',
  'nodejs',
  'deno',
  'bun',
  'lua',
  'luajit',
  'tclsh',
  'wish',
  'expect',
  'pwsh',
  'powershell',
  'Rscript',
  'R',
  'julia',
  'guile',
  'racket',
  'ocaml',
  'ghci',
  'scala',
  'java',
  'jshell',
  'groovy',
  'awk',
  'gawk',
  'mawk',
  'nawk',
  'sed',
  'ed',
  'vi',
  'vim',
  'nvim',
  'emacs',
  'less',
  'more',
  'man',
  'jq',
  'bc',
  'dc',
  'm4',
  'make',
  'gdb',
  'osascript',
  'cmd',
  'cmd.exe',
  'eval',
  'exec',
  'source',
  '.',
]);
const interpreterFamily =
  /^(python|pypy|perl|ruby|php|node|lua|tclsh|wish|pwsh|bash|zsh|ksh|gawk|java)[0-9.]*$/;

/** Programs whose job (or one of whose options) is to start another program. */
export const runners = new Set([
  'env',
  'xargs',
  'find',
  'nice',
  'ionice',
  'timeout',
  'nohup',
  'setsid',
  'stdbuf',
  'chroot',
  'nsenter',
  'unshare',
  'sudo',
  'su',
  'doas',
  'pkexec',
  'runuser',
  'sg',
  'newgrp',
  'ssh',
  'scp',
  'sftp',
  'rsync',
  'script',
  'watch',
  'time',
  'strace',
  'ltrace',
  'valgrind',
  'flock',
  'parallel',
  'systemd-run',
  'machinectl',
  'at',
  'batch',
  'crontab',
  'tar',
  'git',
  'zip',
  'unzip',
  'tcpdump',
  'dpkg',
  'apt',
  'apt-get',
  'npm',
  'npx',
  'pip',
  'pip3',
  'start-stop-daemon',
  'run-parts',
  'bwrap',
  'firejail',
  'capsh',
  'setpriv',
  'taskset',
  'chrt',
  'cgexec',
  'ld.so',
  'ld-linux.so.2',
  'ld-linux-x86-64.so.2',
  'socat',
  'command',
  'builtin',
  'exec',
  'xdg-open',
  'sshpass',
  'rlwrap',
  'entr',
  'inotifywait',
  'dbus-send',
  'busctl',
]);

export function isInterpreter(name: string): boolean {
  return interpreters.has(name) || interpreterFamily.test(name);
}
