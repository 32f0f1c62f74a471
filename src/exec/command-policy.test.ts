import { describe, expect, it } from 'vitest';

import type { FileType } from './command-policy.ts';
import { CommandPolicy } from './command-policy.ts';
import { splitCommand } from './shell-words.ts';

// A fixed PATH lookup, so these tests do not depend on what is installed.
const installed: Record<string, string> = {
  df: '/usr/bin/df',
  systemctl: '/usr/bin/systemctl',
  journalctl: '/usr/bin/journalctl',
  docker: '/usr/bin/docker',
  free: '/usr/bin/free',
  uptime: '/usr/bin/busybox',
};
const policy = new CommandPolicy({ resolve: (n) => installed[n] });

describe('splitCommand', () => {
  it('splits on spaces and keeps quoted spaces in one word', () => {
    expect(splitCommand(`journalctl --since '2024-01-31 10:00' -n 5`)).toEqual({
      ok: true,
      words: ['journalctl', '--since', '2024-01-31 10:00', '-n', '5'],
      quoted: [false, false, true, false, false],
    });
  });

  it('names the earliest offending character, not the first rule in the list', () => {
    expect(splitCommand('ls 2>&1')).toMatchObject({ ok: false, rule: 'syntax.redirection' });
    expect(splitCommand('ls & >x')).toMatchObject({ ok: false, rule: 'syntax.operator' });
  });
});

describe('CommandPolicy', () => {
  it.each([
    ['df -h', ['df', '-h']],
    ['df -hT /', ['df', '-hT', '/']],
    ['free -m', ['free', '-m']],
    [
      'systemctl status --no-pager nginx.service',
      ['systemctl', 'status', '--no-pager', 'nginx.service'],
    ],
    [
      'journalctl -u nginx -n 50 --no-pager',
      ['journalctl', '-u', 'nginx', '-n', '50', '--no-pager'],
    ],
    ['journalctl --since=-1h', ['journalctl', '--since=-1h']],
    ['journalctl --since -1h --until now', ['journalctl', '--since', '-1h', '--until', 'now']],
    ['docker ps -a', ['docker', 'ps', '-a']],
    ['docker logs --tail 20 web', ['docker', 'logs', '--tail', '20', 'web']],
  ])('allows %s', (line, argv) => {
    const d = policy.evaluate(line);
    expect(d).toMatchObject({ allowed: true, argv });
  });

  it('marks programs that inspect the host network', () => {
    const withSs = new CommandPolicy({ resolve: (n) => `/usr/bin/${n}` });
    expect(withSs.evaluate('ss -tlnp')).toMatchObject({ allowed: true, hostNetwork: true });
    expect(withSs.evaluate('df -h')).toMatchObject({ allowed: true, hostNetwork: false });
  });

  it.each([
    ['nginx', 'nginx.required_flag'],
    ['nginx -q', 'nginx.required_flag'],
    ['docker stats web', 'docker.required_flag'],
    ['docker stats --no-trunc', 'docker.required_flag'],
    ['pg_isready -t 0', 'pg_isready.flag_value'],
    ['journalctl --no-pag', 'journalctl.flag'],
    ['systemctl status --no-pa nginx', 'systemctl.flag'],
    ['journalctl -fu nginx', 'journalctl.flag'],
  ])('refuses %s (a daemon, a stream, an abbreviation) with %s', (line, rule) => {
    const any = new CommandPolicy({ resolve: (n) => `/usr/bin/${n}` });
    expect(any.evaluate(line)).toMatchObject({ allowed: false, rule });
  });

  it.each([
    ['nginx -t', ['nginx', '-t']],
    ['nginx -t -q', ['nginx', '-t', '-q']],
    ['nginx -q -V', ['nginx', '-q', '-V']],
    ['nginx -v', ['nginx', '-v']],
    ['docker stats --no-stream', ['docker', 'stats', '--no-stream']],
    [
      'docker stats --no-stream --no-trunc web',
      ['docker', 'stats', '--no-stream', '--no-trunc', 'web'],
    ],
    [
      'pg_isready -h localhost -p 5432 -t 5',
      ['pg_isready', '-h', 'localhost', '-p', '5432', '-t', '5'],
    ],
  ])('still allows %s', (line, argv) => {
    const any = new CommandPolicy({ resolve: (n) => `/usr/bin/${n}` });
    expect(any.evaluate(line)).toMatchObject({ allowed: true, argv });
  });

  it('refuses df on a file whose opening alone acts (df opens its arguments)', () => {
    const types: Record<string, FileType> = {
      '/': 'directory',
      '/var/log/syslog': 'file',
      '/dev/sda1': 'block',
      '/dev/shm': 'directory',
      '/dev/watchdog': 'special',
      '/dev/nst0': 'special',
      '/tmp/link-to-watchdog': 'special',
      '/run/initctl': 'special',
    };
    const any = new CommandPolicy({
      resolve: (n) => `/usr/bin/${n}`,
      fileType: (p) => types[p] ?? 'missing',
    });
    for (const line of ['df -h /', 'df /var/log/syslog', 'df -h /dev/sda1', 'df -h /dev/shm'])
      expect(any.evaluate(line)).toMatchObject({ allowed: true });
    for (const p of ['/dev/watchdog', '/dev/nst0', '/tmp/link-to-watchdog', '/run/initctl'])
      expect(any.evaluate(`df -h ${p}`)).toMatchObject({ allowed: false, rule: 'df.special_file' });
    for (const p of ['/nope', '/proc/1/environ', '//proc//kmsg', '/./sys/kernel', '/sys/x'])
      expect(any.evaluate(`df ${p}`)).toMatchObject({ allowed: false, rule: 'df.argument' });
    // ls and du do not open what they list.
    expect(any.evaluate('ls -la /dev/watchdog')).toMatchObject({ allowed: true });
    expect(any.evaluate('du -sh /proc/1')).toMatchObject({ allowed: true });
  });

  it('gives the resolved executable and names the allow rule', () => {
    expect(policy.evaluate('df -h')).toMatchObject({ executable: '/usr/bin/df', rule: 'allow.df' });
  });

  it('refuses an allowlisted name that resolves to a multi-call binary', () => {
    expect(policy.evaluate('uptime')).toMatchObject({
      allowed: false,
      rule: 'program.resolves_to_interpreter',
    });
  });

  it('refuses an allowlisted program that is not installed on the fixed PATH', () => {
    expect(policy.evaluate('nproc')).toMatchObject({ allowed: false, rule: 'program.not_found' });
  });

  it('applies config patterns on top of the built-in rules, never instead of them', () => {
    const strict = new CommandPolicy({
      blockedPatterns: ['^docker logs'],
      resolve: (n) => installed[n],
    });
    expect(strict.evaluate('docker logs web')).toMatchObject({
      allowed: false,
      rule: 'config.blocked_pattern',
    });
    expect(strict.evaluate('docker ps')).toMatchObject({ allowed: true });
    // A pattern list that would allow everything changes nothing.
    const lax = new CommandPolicy({ blockedPatterns: [], resolve: () => '/bin/sh' });
    expect(lax.evaluate('sh -c id')).toMatchObject({ allowed: false, rule: 'program.interpreter' });
  });

  it('refuses a prefix-regex style bypass that a naive check would let through', () => {
    expect(policy.evaluate('df -h; touch x')).toMatchObject({
      allowed: false,
      rule: 'syntax.operator',
    });
  });
});
