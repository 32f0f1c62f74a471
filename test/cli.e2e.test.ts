// The real binary in real processes: first start with nothing configured,
// the data directory lock, clean shutdown, restart on the same data, bad
// settings, and PostgreSQL through DATABASE_URL.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { freePort, runWarden, startWarden } from './helpers/cli.ts';
import { createTestDatabase } from './helpers/servers.ts';

const running: RunningWarden[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) await w.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-e2e-'));
  dirs.push(d);
  return d;
}

async function start(options: Parameters<typeof startWarden>[0]) {
  const w = await startWarden(options);
  running.push(w);
  return w;
}

describe('warden start with embedded defaults', () => {
  it('serves /healthz, keeps data in ./data, refuses a second process, stops cleanly and restarts on the same data', async () => {
    const cwd = workDir();
    // An admin and keys made from the CLI before the server runs.
    const created = await runWarden(
      ['users', 'create', '--username', 'owner', '--role', 'admin', '--password-stdin', '--json'],
      {
        cwd,
        input: 'a long enough password\n',
      },
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).user).toMatchObject({ username: 'owner', role: 'admin' });
    const adminKey = JSON.parse(
      (await runWarden(['apikeys', 'create', '--name', 'a', '--role', 'admin', '--json'], { cwd }))
        .stdout,
    ).secret as string;
    const viewerKey = JSON.parse(
      (await runWarden(['apikeys', 'create', '--name', 'v', '--role', 'viewer', '--json'], { cwd }))
        .stdout,
    ).secret as string;

    const first = await start({ cwd });
    expect(existsSync(join(cwd, 'data', 'pglite'))).toBe(true);
    expect(existsSync(join(cwd, 'data', 'warden.lock'))).toBe(true);

    const api = (path: string, key?: string, init: RequestInit = {}) =>
      fetch(`${first.url}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      });
    expect((await api('/api/v1/users')).status).toBe(401);
    expect((await api('/api/v1/users', adminKey)).status).toBe(200);
    const write = { method: 'POST', body: JSON.stringify({ name: 'x', role: 'viewer' }) };
    expect((await api('/api/v1/api-keys', viewerKey, write)).status).toBe(403);
    expect((await api('/api/v1/api-keys', adminKey, write)).status).toBe(201);

    // A second process on the same data directory exits with a clear message.
    const second = await runWarden(['start'], {
      cwd,
      env: { WARDEN_PORT: String(await freePort()) },
    });
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(`Another Warden process \\(pid ${first.child.pid}\\) is using the data directory`),
    );
    expect((await api('/api/v1/users', adminKey)).status).toBe(200);

    expect(await first.stop('SIGINT')).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);
    expect(existsSync(join(cwd, 'data', 'warden.lock'))).toBe(false);

    const again = await start({ cwd });
    const users = await fetch(`${again.url}/api/v1/users`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(users.status).toBe(200);
    const body = (await users.json()) as { users: { username: string }[] };
    expect(body.users.map((u) => u.username)).toEqual(['owner']);
    expect(again.output()).not.toMatch(/setup\?token=/);
    expect(await again.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('prints a one-time setup link on the first start', async () => {
    const cwd = workDir();
    const w = await start({ cwd });
    await new Promise((r) => setTimeout(r, 300));
    const token = /setup\?token=(\S+)/.exec(w.output())?.[1];
    expect(token).toBeTruthy();
    const res = await fetch(`${w.url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, username: 'first', password: 'a long enough password' }),
    });
    expect(res.status).toBe(201);
  });

  it('exits non-zero naming a bad setting', async () => {
    const cwd = workDir();
    const r = await runWarden(['start'], {
      cwd,
      env: { WARDEN_PORT: 'http', DATABASE_POOL_SIZE: '-3' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WARDEN_PORT \(server\.port\)/);
    expect(r.stderr).toMatch(/DATABASE_POOL_SIZE/);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('exits non-zero on a port in use, and lets go of its data directory', async () => {
    const port = await freePort();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const cwd = workDir();
      const r = await runWarden(['start'], {
        cwd,
        env: { WARDEN_PORT: String(port), WARDEN_HOST: '127.0.0.1' },
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/EADDRINUSE/);
      expect(existsSync(join(cwd, 'data', 'warden.lock'))).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);
});

describe('warden start on PostgreSQL', () => {
  it('runs the same build and migrations with DATABASE_URL', async () => {
    const db = await createTestDatabase();
    try {
      const cwd = workDir();
      const w = await start({ cwd, env: { DATABASE_URL: db.url } });
      const ready = await (await fetch(`${w.url}/readyz`)).json();
      expect(ready).toMatchObject({
        status: 'ready',
        checks: { database: { ok: true, kind: 'postgres' } },
      });
      expect(existsSync(join(cwd, 'data', 'pglite'))).toBe(false);
      // CLI commands work alongside the server on PostgreSQL.
      const key = await runWarden(
        ['apikeys', 'create', '--name', 'pg', '--role', 'admin', '--json'],
        { cwd, env: { DATABASE_URL: db.url } },
      );
      expect(key.code, key.stderr).toBe(0);
      const res = await fetch(`${w.url}/api/v1/auth/me`, {
        headers: { authorization: `Bearer ${JSON.parse(key.stdout).secret}` },
      });
      expect(res.status).toBe(200);
      expect(await w.stop()).toBe(0);
    } finally {
      await db.drop();
    }
  });
});
