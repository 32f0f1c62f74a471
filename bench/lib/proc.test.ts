import { describe, expect, it } from 'vitest';

import {
  classifyPg,
  cpuTicks,
  parseLoadavg,
  parseMachineStat,
  parseProcStat,
  parseVmRss,
  rssBytes,
} from './proc.ts';

describe('/proc parsers', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const line =
      '4242 (node (worker) 1) S 1 4242 4242 0 -1 4194560 2000 0 0 0 123 45 0 0 20 0 11 0 500 1000000 5000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ comm: 'node (worker) 1', ticks: 168 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow(/not a \/proc/);
  });

  it('reads VmRSS in bytes, and nothing for a kernel thread', () => {
    expect(parseVmRss('Name:\tnode\nVmPeak:\t 9 kB\nVmRSS:\t  181234 kB\nThreads: 11\n')).toBe(
      181234 * 1024,
    );
    expect(parseVmRss('Name:\tkthreadd\nThreads: 1\n')).toBeUndefined();
  });

  it('reads the load average', () => {
    expect(parseLoadavg('1.52 0.80 0.33 2/345 9999\n')).toEqual([1.52, 0.8, 0.33]);
    expect(() => parseLoadavg('')).toThrow(/loadavg/);
  });

  it('counts user, nice, system and steal as busy; idle, iowait and interrupts not', () => {
    const stat = 'cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n';
    expect(parseMachineStat(stat)).toEqual({ busy: 162, total: 1187 });
  });

  it('reads this very process from /proc', () => {
    expect(cpuTicks(process.pid)).toBeGreaterThanOrEqual(0);
    expect(rssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
    expect(cpuTicks(2 ** 22 + 1)).toBeUndefined();
  });
});

describe('classifyPg', () => {
  const db = 'warden_bench_abc';
  it('tells the bench database backends from other databases and the server processes', () => {
    expect(classifyPg(`postgres: 15/main: postgres ${db} 127.0.0.1(40312) idle`, db)).toBe(
      'bench-backend',
    );
    expect(classifyPg(`postgres: 15/main: autovacuum worker ${db}`, db)).toBe('bench-backend');
    expect(classifyPg('postgres: 15/main: postgres warden_t_x 127.0.0.1(40313) idle', db)).toBe(
      'other-backend',
    );
    expect(classifyPg('postgres: 15/main: walwriter', db)).toBe('server');
    expect(
      classifyPg('/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main', db),
    ).toBe('server');
  });
});
