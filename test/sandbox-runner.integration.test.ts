// The runner with real processes: no shell, a fixed environment, a working
// directory under the root, process-group kill at the timeout, output caps,
// a concurrency limit, another uid, and bubblewrap isolation.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resolveOnFixedPath } from '../src/exec/command-policy.ts';
import { fixedEnv, SandboxRunner } from '../src/exec/sandbox-runner.ts';
import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';

const root = mkdtempSync(join(tmpdir(), 'warden-runner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bin = (name: string) => {
  const p = resolveOnFixedPath(name);
  if (!p) throw new Error(`${name} is not installed`);
  return p;
};
const plain = new SandboxRunner({ root: join(root, 'plain'), bwrap: 'off', timeoutMs: 20_000 });

describe('SandboxRunner', () => {
  it('passes arguments verbatim, never through a shell', async () => {
    const r = await plain.run({
      executable: bin('echo'),
      argv: ['echo', '$(id); `id` | x > y'],
      risk: 'read',
    });
    expect(r.stdout).toBe('$(id); `id` | x > y\n');
    expect(r.exitCode).toBe(0);
  });

  it('gives the command only the fixed environment', async () => {
    process.env.WARDEN_SECRET_FOR_TEST = 'leak';
    try {
      const r = await plain.run({ executable: bin('env'), argv: ['env'], risk: 'read' });
      const seen = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(seen).toEqual(fixedEnv);
    } finally {
      delete process.env.WARDEN_SECRET_FOR_TEST;
    }
  });

  it('runs in a fresh directory under the root and removes it afterwards', async () => {
    const r = await plain.run({ executable: bin('pwd'), argv: ['pwd'], risk: 'read' });
    const cwd = r.stdout.trim();
    expect(cwd.startsWith(join(root, 'plain', 'run-'))).toBe(true);
    expect(existsSync(cwd)).toBe(false);
  });

  it('kills the whole process group at the timeout', async () => {
    const r = await plain.run({
      executable: bin('sh'),
      argv: ['sh', '-c', 'sleep 60 & echo $!; wait'],
      risk: 'read',
      timeoutMs: 3000,
    });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(1);
    // Gone, or a zombie waiting for an init that does not reap: dead either way.
    const state = existsSync(`/proc/${grandchild}/stat`)
      ? readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1]?.[0]
      : 'gone';
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('caps stdout and says so', async () => {
    const r = await plain.run({
      executable: bin('head'),
      argv: ['head', '-c', '200000', '/dev/zero'],
      risk: 'read',
      outputCapBytes: 1024,
    });
    expect(r.stdout.length).toBe(1024);
    expect(r.truncated).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('runs at most `concurrency` commands at once', async () => {
    const log = join(root, 'order.log');
    const one = new SandboxRunner({ root: join(root, 'one'), bwrap: 'off', concurrency: 1 });
    const script = `echo start >> ${log}; sleep 0.2; echo end >> ${log}`;
    await Promise.all(
      [1, 2, 3].map(() =>
        one.run({ executable: bin('sh'), argv: ['sh', '-c', script], risk: 'read' }),
      ),
    );
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'start',
      'end',
      'start',
      'end',
      'start',
      'end',
    ]);
  });

  it('refuses a root that someone else owns or can write, starting nothing', async () => {
    const shared = join(root, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    let spawned = 0;
    const r = new SandboxRunner({
      root: shared,
      bwrap: 'off',
      spawn: (...a) => (spawned++, spawn(...a)),
    });
    await expect(
      r.run({ executable: bin('id'), argv: ['id'], risk: 'read' }),
    ).rejects.toMatchObject({
      code: 'exec_root_unsafe',
    });
    expect(spawned).toBe(0);
  });

  it.runIf(process.getuid?.() === 0)('runs as the configured uid and gid', async () => {
    const nobody = new SandboxRunner({
      root: join(root, 'nobody'),
      bwrap: 'off',
      uid: 65534,
      gid: 65534,
    });
    const r = await nobody.run({ executable: bin('id'), argv: ['id', '-u'], risk: 'read' });
    expect(r.stdout.trim()).toBe('65534');
    const w = await nobody.run({
      executable: bin('sh'),
      argv: ['sh', '-c', 'touch work && echo wrote'],
      risk: 'read',
    });
    expect(w.stdout.trim()).toBe('wrote');
  });

  // The runner finds bwrap on its own fixed PATH; the helper also honours
  // WARDEN_TEST_HIDE_PROGRAMS so the skip can be seen where bwrap exists.
  describeUnless(
    missingPrograms([programs.bwrap]) ??
      (resolveOnFixedPath('bwrap') ? undefined : 'needs bwrap on the fixed PATH'),
    'inside bubblewrap',
    () => {
      // Built in beforeAll: a skipped suite's body still runs, and 'on' throws without bwrap.
      let boxed: SandboxRunner;
      beforeAll(() => {
        boxed = new SandboxRunner({ root: join(root, 'boxed'), bwrap: 'on' });
      });
      const interfaces = (s: string) =>
        s
          .split('\n')
          .slice(2)
          .map((l) => l.trim().split(':')[0])
          .filter(Boolean);

      it('has no network for read actions', async () => {
        const r = await boxed.run({
          executable: bin('cat'),
          argv: ['cat', '/proc/net/dev'],
          risk: 'read',
        });
        expect(boxed.bwrapPath).toBeDefined();
        expect(interfaces(r.stdout)).toEqual(['lo']);
      });

      it('shares the network with a read action that asks for it', async () => {
        const r = await boxed.run({
          executable: bin('cat'),
          argv: ['cat', '/proc/net/dev'],
          risk: 'read',
          network: true,
        });
        expect(interfaces(r.stdout)).toEqual(interfaces(readFileSync('/proc/net/dev', 'utf8')));
      });

      it('keeps the network for change actions', async () => {
        const r = await boxed.run({
          executable: bin('cat'),
          argv: ['cat', '/proc/net/dev'],
          risk: 'change',
        });
        expect(interfaces(r.stdout)).toEqual(interfaces(readFileSync('/proc/net/dev', 'utf8')));
      });

      it('sees a read-only root and a private /tmp', async () => {
        const marker = `/tmp/warden-bwrap-${process.pid}`;
        const r = await boxed.run({
          executable: bin('sh'),
          argv: [
            'sh',
            '-c',
            `touch /usr/warden-x 2>/dev/null && echo root-writable; touch ${marker} && echo tmp-ok`,
          ],
          risk: 'read',
        });
        expect(r.stdout.trim()).toBe('tmp-ok');
        expect(existsSync('/usr/warden-x')).toBe(false);
        expect(existsSync(marker)).toBe(false);
      });
    },
  );
});
