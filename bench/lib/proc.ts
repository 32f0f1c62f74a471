// What the kernel says about processes and the machine (Linux /proc): CPU
// time (utime + stime, in clock ticks), resident memory, the load average,
// and which PostgreSQL processes serve which database. Parsers are pure and
// take the file's text; the readers return undefined for a process that has
// gone.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second for /proc CPU times (USER_HZ, nearly always 100). */
export const clockTicks = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** utime + stime of a /proc/<pid>/stat line, in ticks. The command name may hold spaces and parentheses. */
export function parseProcStat(text: string): { comm: string; ticks: number } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open)
    throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${text.slice(0, 80)}`);
  return { comm: text.slice(open + 1, close), ticks: utime + stime };
}

/** VmRSS of a /proc/<pid>/status file, in bytes (undefined for a kernel thread or zombie). */
export function parseVmRss(text: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (![a, b, c].every((x) => Number.isFinite(x)))
    throw new Error(`not a /proc/loadavg line: ${text}`);
  return [a!, b!, c!];
}

/**
 * Busy and total ticks of all CPUs from /proc/stat's first line. Busy is
 * user, nice, system and steal (time the hypervisor gave to someone else);
 * idle and iowait are not busy, and neither is interrupt time, most of
 * which is the bench's own loopback traffic and belongs to no process.
 */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no "cpu" line in /proc/stat');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = v;
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: user + nice + system + steal, total };
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

export function cpuTicks(pid: number): number | undefined {
  const text = read(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseProcStat(text).ticks;
}

export function rssBytes(pid: number): number | undefined {
  const text = read(`/proc/${pid}/status`);
  return text === undefined ? undefined : parseVmRss(text);
}

export const loadavg = () => parseLoadavg(read('/proc/loadavg') ?? '');
export const machineStat = () => parseMachineStat(read('/proc/stat') ?? '');
export const cores = () => cpus().length;

export type PgProcess = { pid: number; title: string };

/** Every process whose title says it is PostgreSQL's (postmaster, backends, background workers). */
export function postgresProcesses(): PgProcess[] {
  const out: PgProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = read(`/proc/${entry}/cmdline`);
    if (!cmd) continue;
    const title = cmd.replaceAll('\0', ' ').trim();
    const comm = read(`/proc/${entry}/comm`)?.trim();
    if (comm === 'postgres' || title.startsWith('postgres:') || /\/postgres(\s|$)/.test(title))
      out.push({ pid: Number(entry), title });
  }
  return out;
}

export type PgRole = 'bench-backend' | 'other-backend' | 'server';

/**
 * A PostgreSQL process by its title: a backend of the bench database (a
 * client connection or an autovacuum worker on it), another database's
 * backend, or the server's own processes (postmaster, checkpointer,
 * walwriter, ...), which work for every database.
 */
export function classifyPg(title: string, database: string): PgRole {
  const words = title.split(/\s+/);
  const client = /\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]|[0-9a-f:]+\(\d+\)/.test(title);
  const vacuum = title.includes('autovacuum worker');
  if (words.includes(database) && (client || vacuum)) return 'bench-backend';
  if (client || vacuum) return 'other-backend';
  return 'server';
}
