// Authentication and authorisation across the whole route table.
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

let t: TestApp;

beforeAll(async () => {
  t = await makeTestApp('pglite');
});
afterAll(() => t.close());

describe('route table', () => {
  it('answers 401 without credentials on every route that is not declared public', async () => {
    const { buildServer } = await import('../src/server/server.ts');
    const registered: RouteOptions[] = [];
    const app = await buildServer(t.services, { onRoute: (r) => void registered.push(r) });
    await app.ready();
    // Read each route's config once every onRoute hook has had its say.
    const seen = registered.flatMap((r) =>
      [r.method]
        .flat()
        .filter((method) => method !== 'HEAD' && method !== 'OPTIONS')
        .map((method) => ({ method, url: r.url, public: r.config?.public === true })),
    );
    try {
      const protectedRoutes = seen.filter((r) => !r.public);
      expect(protectedRoutes.length).toBeGreaterThan(5);
      for (const r of protectedRoutes) {
        const url = r.url.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' ? '1' : 'x'));
        const res = await app.inject({
          method: r.method as 'GET',
          url,
          payload: r.method === 'GET' ? undefined : {},
        });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json().error.code).toBe('unauthorized');
      }
      // The public list is short and deliberate.
      expect(
        seen
          .filter((r) => r.public)
          .map((r) => `${r.method} ${r.url}`)
          .sort(),
      ).toEqual([
        'GET /*',
        // The API reference and the OpenAPI document describe the API, not its data.
        'GET /api/v1/docs/',
        'GET /api/v1/docs/json',
        'GET /api/v1/docs/static/*',
        'GET /api/v1/docs/static/index.html',
        'GET /api/v1/docs/static/swagger-initializer.js',
        'GET /api/v1/docs/yaml',
        'GET /api/v1/openapi.json',
        'GET /healthz',
        'GET /readyz',
        'GET /setup',
        'GET /webhook/*',
        'POST /api/v1/alerts/:source',
        'POST /api/v1/alerts/generic/:name',
        'POST /api/v1/auth/login',
        'POST /api/v1/setup',
        'POST /hooks/alerts/:source/:token',
        'POST /hooks/alerts/generic/:name/:token',
        'POST /webhook/*',
      ]);
      // Alert webhooks are public to Fastify only: each checks its endpoint's own token.
      for (const url of [
        '/api/v1/alerts/grafana',
        '/api/v1/alerts/generic/x',
        '/hooks/alerts/grafana/wdn_alert_x',
        '/hooks/alerts/generic/x/wdn_alert_x',
      ]) {
        const res = await app.inject({ method: 'POST', url, payload: {} });
        expect(res.statusCode, url).toBe(401);
      }
    } finally {
      await app.close();
    }
  });

  it('puts a JSON schema on every /api/v1 route', async () => {
    const { buildServer } = await import('../src/server/server.ts');
    const missing: string[] = [];
    const app = await buildServer(t.services, {
      onRoute: (r) => {
        if (r.url.startsWith('/api/v1') && !r.schema) missing.push(`${String(r.method)} ${r.url}`);
      },
    });
    await app.ready();
    await app.close();
    expect(missing).toEqual([]);
  });
});

describe('API keys and roles', () => {
  it('lets an admin key read admin routes and write', async () => {
    const admin = await t.keyFor('admin');
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: admin });
    expect(list.statusCode).toBe(200);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { username: 'olga', password: 'correct horse battery', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'olga', role: 'operator' });
    expect(created.json()).not.toHaveProperty('password_hash');
  });

  it('gives a viewer key 403 on writes and admin routes, 200 on its own reads', async () => {
    const viewer = await t.keyFor('viewer');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: viewer })).statusCode,
    ).toBe(200);
    const write = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/credentials/smtp',
      headers: viewer,
      payload: { kind: 'password', value: 'x' },
    });
    expect(write.statusCode).toBe(403);
    expect(write.json().error.code).toBe('forbidden');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: viewer })).statusCode,
    ).toBe(403);
  });

  it('refuses a revoked key and a malformed Authorization header', async () => {
    const { key, secret } = await t.services.apiKeys.create({ name: 'short-lived', role: 'admin' });
    await t.services.apiKeys.revoke(key.id);
    const revoked = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(revoked.statusCode).toBe(401);
    const basic = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: 'Basic YTpi' },
    });
    expect(basic.statusCode).toBe(401);
    expect(basic.json().error.message).toMatch(/Bearer/);
  });

  it('shows a key once and stores only its hash', async () => {
    const admin = await t.keyFor('admin');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: admin,
      payload: { name: 'deploy', role: 'operator' },
    });
    expect(res.statusCode).toBe(201);
    const { secret, apiKey } = res.json();
    expect(secret).toMatch(/^wdn_/);
    const { rows } = await t.services.db.query('SELECT * FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(JSON.stringify(rows)).not.toContain(secret);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: admin });
    expect(list.body).not.toContain(secret);
  });
});

describe('browser sessions', () => {
  beforeAll(async () => {
    await t.services.users.create({
      username: 'petra',
      password: 'a long enough password',
      role: 'admin',
    });
  });

  it('logs in with an httpOnly SameSite=Strict cookie and enforces CSRF on writes', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'petra', password: 'a long enough password' },
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === 'warden_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.secure).toBeFalsy(); // plain HTTP in tests; Secure under TLS
    const headers = { cookie: `warden_session=${cookie.value}` };
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers });
    expect(me.json()).toMatchObject({ kind: 'session', user: { username: 'petra' } });

    const payload = { kind: 'token', value: 'abc' };
    const noCsrf = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/credentials/tg',
      headers,
      payload,
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('csrf_failed');
    const withCsrf = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/credentials/tg',
      headers: { ...headers, 'x-csrf-token': login.json().csrfToken },
      payload,
    });
    expect(withCsrf.statusCode).toBe(200);

    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { ...headers, 'x-csrf-token': login.json().csrfToken },
    });
    expect(logout.statusCode).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })).statusCode,
    ).toBe(401);
  });

  it('sets Secure on the cookie when the request came over TLS', async () => {
    const tls = await makeTestApp('pglite', { WARDEN_TRUST_PROXY: 'true' });
    try {
      await tls.services.users.create({
        username: 'tina',
        password: 'a long enough password',
        role: 'viewer',
      });
      const login = await tls.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-forwarded-proto': 'https' },
        payload: { username: 'tina', password: 'a long enough password' },
      });
      expect(login.cookies.find((c) => c.name === 'warden_session')!.secure).toBe(true);
    } finally {
      await tls.close();
    }
  });

  it('rate-limits failed logins from one address, even with the right password', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '203.0.113.9',
        payload: { username: 'petra', password: `wrong ${i}` },
      });
      expect(r.statusCode).toBe(401);
    }
    const blocked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '203.0.113.9',
      payload: { username: 'petra', password: 'a long enough password' },
    });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('an attacker hammering admin from one address gets 429 and does not lock out the admin at another', async () => {
    await t.services.users.create({
      username: 'root-admin',
      password: 'the real admin password',
      role: 'admin',
    });
    const statuses: number[] = [];
    let lastRetryAfter = 0;
    for (let i = 0; i < 40; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '198.51.100.66',
        payload: { username: 'root-admin', password: `guess ${i}` },
      });
      statuses.push(r.statusCode);
      if (r.statusCode === 429) lastRetryAfter = Number(r.headers['retry-after']);
    }
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(30);
    expect(lastRetryAfter).toBeGreaterThan(0);
    // Even the right password from the attacker's address waits.
    const attackerRight = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '198.51.100.66',
      payload: { username: 'root-admin', password: 'the real admin password' },
    });
    expect(attackerRight.statusCode).toBe(429);
    const admin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '192.0.2.10',
      payload: { username: 'root-admin', password: 'the real admin password' },
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toMatchObject({ user: { username: 'root-admin' } });
  });

  it('gives a disabled user no session', async () => {
    await t.services.users.create({
      username: 'gone',
      password: 'a long enough password',
      role: 'viewer',
    });
    await t.services.users.disable('gone');
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'gone', password: 'a long enough password' },
    });
    expect(r.statusCode).toBe(401);
  });
});

describe('first-run setup', () => {
  it('creates the administrator once with the setup token', async () => {
    const fresh = await makeTestApp('pglite');
    try {
      const token = await fresh.services.users.issueSetupToken();
      expect(token).toBeTruthy();
      const wrong = await fresh.app.inject({
        method: 'POST',
        url: '/api/v1/setup',
        payload: { token: 'nope', username: 'root', password: 'a long enough password' },
      });
      expect(wrong.statusCode).toBe(403);
      const ok = await fresh.app.inject({
        method: 'POST',
        url: '/api/v1/setup',
        payload: { token, username: 'root', password: 'a long enough password' },
      });
      expect(ok.statusCode).toBe(201);
      expect(ok.json().user.role).toBe('admin');
      const again = await fresh.app.inject({
        method: 'POST',
        url: '/api/v1/setup',
        payload: { token, username: 'root2', password: 'a long enough password' },
      });
      expect(again.statusCode).toBe(403);
      expect(await fresh.services.users.issueSetupToken()).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});

describe('errors', () => {
  it('answers schema violations with 400 naming the field, and unknown routes with 404', async () => {
    const admin = await t.keyFor('admin');
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { username: 'x', role: 'king', password: 'a long enough password' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
    expect(bad.json().error.message).toMatch(/role/);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/nothing-here',
      headers: admin,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-request-id']).toBeTruthy();
  });

  it('maps a database outage to 503 with a stable code', async () => {
    const db = await createTestDatabase();
    const proxy = await startTcpProxy('127.0.0.1', 5432);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const down = await makeTestApp('pglite', { DATABASE_URL: url.toString() });
    try {
      const admin = await down.keyFor('admin');
      expect(
        (await down.app.inject({ method: 'GET', url: '/api/v1/users', headers: admin })).statusCode,
      ).toBe(200);
      proxy.cut();
      const res = await down.app.inject({ method: 'GET', url: '/api/v1/users', headers: admin });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('database_unavailable');
      const ready = await down.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
    } finally {
      await down.close();
      await proxy.close();
      await db.drop();
    }
  });
});
