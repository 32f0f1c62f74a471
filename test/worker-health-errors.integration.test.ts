// A worker's health port answers its errors in the API's one shape, with
// the request id in the body and the x-request-id header: an unknown route,
// a method it does not serve, and /metrics without a key.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildHealthServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

let services: TestServices;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  services = await makeTestServices('pglite');
  app = await buildHealthServer(services);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  app?.server.closeAllConnections();
  await app?.close();
  await services?.dispose();
});

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as {
    error: { code: string; message: string; requestId: string };
  };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
}

describe("a worker's health port", () => {
  it('serves /healthz without credentials', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers an unknown route and an unserved method with route_not_found', async () => {
    await expectError(await fetch(`${base}/api/v1/workflows`), 404, 'route_not_found');
    await expectError(await fetch(`${base}/healthz`, { method: 'POST' }), 404, 'route_not_found');
  });

  it('answers /metrics without a key, or with a malformed header, with unauthorized', async () => {
    await expectError(await fetch(`${base}/metrics`), 401, 'unauthorized');
    await expectError(
      await fetch(`${base}/metrics`, { headers: { authorization: 'Basic eDp5' } }),
      401,
      'unauthorized',
    );
  });

  it('keeps the request id the caller sent', async () => {
    const res = await fetch(`${base}/nowhere`, { headers: { 'x-request-id': 'trace-7' } });
    expect(res.headers.get('x-request-id')).toBe('trace-7');
    expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe(
      'trace-7',
    );
  });
});
