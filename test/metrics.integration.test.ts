// /metrics: Prometheus text with the database pool, HTTP traffic by route
// pattern and monitors, behind a viewer's key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await makeTestApp('postgres');
});
afterAll(() => t.close());

describe('GET /metrics', () => {
  it('needs credentials', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('reports pool use, requests by route pattern and monitors by state', async () => {
    const viewer = await t.keyFor('viewer');
    await t.services.monitors.create({
      name: 'closed',
      service: 'x',
      spec: { kind: 'tcp', host: '127.0.0.1', port: 1 },
      retries: 0,
    });
    const [m] = await t.services.monitors.list();
    await t.services.monitors.checkNow(m!.id);
    await t.app.inject({ method: 'GET', url: `/api/v1/monitors/${m!.id}`, headers: viewer });
    await t.app.inject({ method: 'GET', url: '/api/v1/monitors/424242', headers: viewer });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: viewer });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = res.body;
    expect(body).toMatch(/^warden_db_pool_connections\{database="postgres",state="max"\} 10$/m);
    expect(body).toMatch(/^# TYPE warden_http_requests_total counter$/m);
    expect(body).toMatch(
      /^warden_http_requests_total\{method="GET",route="\/api\/v1\/monitors\/:id",status="200"\} 1$/m,
    );
    expect(body).toMatch(
      /^warden_http_requests_total\{method="GET",route="\/api\/v1\/monitors\/:id",status="404"\} 1$/m,
    );
    expect(body).toMatch(/^warden_monitors\{state="down"\} 1$/m);
    expect(body).not.toMatch(/route="[^"]*424242/);
  });
});
