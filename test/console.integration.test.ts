// The console plugin without a browser: the built app and its files from
// the build folder, the app for any other page path, JSON 404s for API
// paths and missing files, no way out of the folder, a clear page when the
// app is not built, and the CSRF token handed back to a reloaded page.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerErrorHandler } from '../src/server/error-handler.ts';
import authPlugin from '../src/server/plugins/auth.ts';
import consolePlugin from '../src/server/plugins/console.ts';
import sessionPlugin from '../src/server/plugins/session.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

let t: TestApp;
let dir: string;

async function consoleApp(root: string): Promise<FastifyInstance> {
  const app = Fastify();
  registerErrorHandler(app);
  await app.register(cookie);
  await app.register(authPlugin, { services: t.services });
  await app.register(sessionPlugin, { services: t.services });
  await app.register(consolePlugin, { services: t.services, root });
  await app.ready();
  return app;
}

beforeAll(async () => {
  t = await makeTestApp('pglite');
  dir = mkdtempSync(join(tmpdir(), 'warden-console-'));
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>Warden</title>');
  writeFileSync(join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'dist', 'assets', 'index-abc123.js.gz'), gzipSync('console.log(1)'));
  writeFileSync(join(dir, 'secret.txt'), 'outside the build folder');
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serving the built console', () => {
  it('answers page paths with the app and files with themselves', async () => {
    const app = await consoleApp(join(dir, 'dist'));
    try {
      for (const url of ['/', '/incidents/3?status=open', '/executions']) {
        const res = await app.inject({ url });
        expect(res.statusCode, url).toBe(200);
        expect(res.body).toContain('<title>Warden</title>');
        expect(res.headers['content-type']).toMatch(/text\/html/);
        expect(res.headers['cache-control']).toBe('no-cache');
        expect(res.headers['content-security-policy']).toMatch(/script-src 'self';/);
      }
      // No compressed copy of index.html: the plain one, whatever the browser accepts.
      const page = await app.inject({ url: '/', headers: { 'accept-encoding': 'br, gzip' } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>Warden</title>');
      const js = await app.inject({ url: '/assets/index-abc123.js' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
      expect(js.headers['cache-control']).toMatch(/immutable/);
      // The build's .gz copy goes to a browser that accepts gzip.
      const zipped = await app.inject({
        url: '/assets/index-abc123.js',
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(zipped.statusCode).toBe(200);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers['content-type']).toMatch(/javascript/);
      expect(gunzipSync(zipped.rawPayload).toString()).toBe('console.log(1)');
      expect(js.headers['content-encoding']).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('answers JSON 404s for API paths, missing files and paths out of the folder', async () => {
    const app = await consoleApp(join(dir, 'dist'));
    try {
      for (const [url, code] of [
        ['/api/v1/nothing', 'route_not_found'],
        ['/api', 'route_not_found'],
        ['/hooks/alerts/x', 'route_not_found'],
        ['/assets/gone-123.js', 'not_found'],
        ['/favicon.ico', 'not_found'],
        ['/assets/..%2F..%2Fsecret.txt', 'not_found'],
        ['/..%2Fsecret.txt', 'not_found'],
        ['/assets/..%5C..%5Csecret.txt', 'not_found'],
      ] as const) {
        const res = await app.inject({ url });
        expect(res.statusCode, url).toBe(404);
        expect(res.json().error.code, url).toBe(code);
        expect(res.body).not.toContain('outside the build folder');
      }
    } finally {
      await app.close();
    }
  });

  it('says how to build the console when it is not built', async () => {
    const app = await consoleApp(join(dir, 'missing'));
    try {
      const res = await app.inject({ url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build:web');
    } finally {
      await app.close();
    }
  });
});

describe('GET /api/v1/console/session', () => {
  it('gives a logged-in page its CSRF token again, an API key none, and a stranger a 401', async () => {
    await t.services.users.create({
      username: 'carol',
      password: 'a long enough password',
      role: 'operator',
    });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'carol', password: 'a long enough password' },
    });
    expect(login.statusCode).toBe(200);
    const sid = login.cookies.find((c) => c.name === 'warden_session')!.value;
    const again = await t.app.inject({
      url: '/api/v1/console/session',
      cookies: { warden_session: sid },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({
      kind: 'session',
      role: 'operator',
      username: 'carol',
      csrfToken: login.json().csrfToken,
    });
    const key = await t.app.inject({
      url: '/api/v1/console/session',
      headers: await t.keyFor('viewer'),
    });
    expect(key.json()).toMatchObject({ kind: 'api_key', role: 'viewer', csrfToken: null });
    expect((await t.app.inject({ url: '/api/v1/console/session' })).statusCode).toBe(401);
  });

  it('answers the dashboard to a viewer with open incidents counted by severity', async () => {
    const alert = (
      fingerprint: string,
      severity: 'critical' | 'warning',
      status: 'firing' | 'resolved',
    ) => ({
      source: 'alertmanager' as const,
      fingerprint,
      service: 'web',
      severity,
      status,
      summary: fingerprint,
      labels: {},
      annotations: {},
      startsAt: new Date(),
      endsAt: null,
      raw: {},
    });
    await t.services.incidents.ingest([
      alert('a', 'critical', 'firing'),
      alert('b', 'critical', 'firing'),
      alert('c', 'warning', 'firing'),
      alert('b', 'critical', 'resolved'),
    ]);
    const res = await t.app.inject({ url: '/api/v1/dashboard', headers: await t.keyFor('viewer') });
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(Object.keys(d).sort()).toEqual(
      [
        'approvals',
        'at',
        'backup',
        'executions',
        'incidents',
        'models',
        'monitors',
        'queue',
        'storm',
      ].sort(),
    );
    expect(d.incidents.openBySeverity).toEqual({ critical: 1, warning: 1 });
    expect(d.storm).toMatchObject({ paused: false, reason: null });
    expect(d.executions.perMinute).toHaveLength(15);
    expect(d.queue).toMatchObject({ kind: 'embedded', queued: 0, running: 0 });
    expect(d.models.roles).toHaveProperty('orchestrator');
    expect(
      (await t.app.inject({ url: '/api/v1/dashboard?x=1', headers: await t.keyFor('viewer') }))
        .statusCode,
    ).toBe(400);
  });
});
