// SSRF from workflows: the HTTP request node must not reach what listens on
// loopback (or any private, link-local or metadata address) unless
// WARDEN_HTTP_ALLOW_HOSTS says so: not by name, not by any spelling of
// 127.0.0.1, not through a redirect from an allowed server. Real servers on
// loopback stand in for the internal service; the first test replays the
// reported attack (a webhook workflow that fetches the URL in its query).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { guardedFetch } from '../src/nodes/guarded-fetch.ts';
import { outboundPolicy } from '../src/nodes/outbound-policy.ts';
import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

const SECRET = 'loopback-only-secret-51c2';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const portOf = (s: Server) => (s.address() as AddressInfo).port;

describe('outbound requests from workflows', () => {
  let internal: Server;
  let front: Server;
  let internalHits = 0;
  let p1 = 0;
  let p2 = 0;

  beforeAll(async () => {
    // The service that listens on loopback only.
    internal = await listen((_req, res) => {
      internalHits++;
      res.end(SECRET);
    });
    // A server the allowlist names, which redirects wherever it is told.
    front = await listen((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/go') {
        res.writeHead(Number(u.searchParams.get('status') ?? 302), {
          location: u.searchParams.get('to') ?? '/',
        });
        return res.end();
      }
      if (u.pathname === '/loop') {
        res.writeHead(302, { location: '/loop' });
        return res.end();
      }
      res.end('front page');
    });
    p1 = portOf(internal);
    p2 = portOf(front);
  });
  afterAll(async () => {
    internal?.closeAllConnections();
    front?.closeAllConnections();
    await new Promise((r) => internal?.close(r));
    await new Promise((r) => front?.close(r));
  });

  const get = (url: string, allow: string[] = []) =>
    guardedFetch(
      new URL(url),
      { method: 'GET', headers: {} },
      { policy: outboundPolicy(allow) },
      async (res) => ({ status: res.status, body: await res.text() }),
    );

  describe('through the engine', () => {
    let s: TestServices;
    let app: FastifyInstance;
    beforeAll(async () => {
      // No allowlist at all: the default a fresh Warden has.
      s = await makeTestServices('pglite', { WARDEN_HTTP_ALLOW_HOSTS: '' });
      await s.engine.startWorker(2);
      app = await buildServer(s);
    });
    afterAll(async () => {
      await app?.close();
      await s?.dispose();
    });

    it('refuses a webhook workflow that fetches the loopback URL given in its query', async () => {
      const path = `fetch-${randomUUID()}`;
      const wf = await s.engine.createWorkflow({
        name: 'fetch what the caller says',
        nodes: [
          { id: '1', name: 'Hook', type: 'webhook', parameters: { path } },
          {
            id: '2',
            name: 'Fetch',
            type: 'httpRequest',
            parameters: { url: '={{ query.url }}' },
          },
        ],
        connections: { Hook: { main: [[{ node: 'Fetch', index: 0 }]] } },
      });
      await s.engine.setActive(wf.id, true);
      const before = internalHits;
      for (const target of [
        `http://127.0.0.1:${p1}/`,
        `http://localhost:${p1}/`,
        `http://2130706433:${p1}/`,
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: `/webhook/${path}?url=${encodeURIComponent(target)}`,
          payload: {},
        });
        expect(res.statusCode).toBe(202);
        const ex = await s.engine.waitForStatus(res.json<{ executionId: string }>().executionId);
        expect(ex.status, target).toBe('failed');
        expect(ex.error, target).toMatchObject({
          code: 'http_destination_refused',
          message: expect.stringMatching(/loopback address.*WARDEN_HTTP_ALLOW_HOSTS/),
        });
        expect(JSON.stringify(ex)).not.toContain(SECRET);
      }
      expect(internalHits).toBe(before);
    });
  });

  it('refuses every spelling of loopback and the other internal addresses', async () => {
    const before = internalHits;
    const urls = [
      `http://localhost:${p1}/`,
      `http://LOCALHOST:${p1}/`,
      `http://127.0.0.1:${p1}/`,
      `http://127.1:${p1}/`,
      `http://0x7f.1:${p1}/`,
      `http://0177.0.0.1:${p1}/`,
      `http://2130706433:${p1}/`,
      `http://[::ffff:127.0.0.1]:${p1}/`,
      `http://[::1]:${p1}/`,
      `http://0.0.0.0:${p1}/`,
      `http://[::]:${p1}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://[::ffff:a9fe:a9fe]/',
    ];
    const outcomes: string[] = [];
    for (const url of urls) {
      const out = await get(url).then(
        (r) => `fetched ${r.status}`,
        (err: Error & { code?: string }) => err.code ?? err.message,
      );
      outcomes.push(`${url} -> ${out}`);
    }
    expect(outcomes).toEqual(urls.map((u) => `${u} -> http_destination_refused`));
    expect(internalHits).toBe(before);
  });

  it('checks every redirect hop: an allowlisted server cannot send the request to loopback', async () => {
    const before = internalHits;
    const allow = [`127.0.0.1:${p2}`];
    // The allowlisted server itself answers.
    expect(await get(`http://127.0.0.1:${p2}/`, allow)).toEqual({
      status: 200,
      body: 'front page',
    });
    for (const [status, to] of [
      [302, `http://127.0.0.1:${p1}/`],
      [307, `http://localhost:${p1}/`],
      [301, `http://[::ffff:127.0.0.1]:${p1}/`],
      [308, `http://2130706433:${p1}/`],
    ] as const) {
      const url = `http://127.0.0.1:${p2}/go?status=${status}&to=${encodeURIComponent(to)}`;
      await expect(get(url, allow), `${status} ${to}`).rejects.toMatchObject({
        code: 'http_destination_refused',
      });
    }
    expect(internalHits).toBe(before);
    // A redirect within the allowed server is followed.
    expect(await get(`http://127.0.0.1:${p2}/go?to=${encodeURIComponent('/')}`, allow)).toEqual({
      status: 200,
      body: 'front page',
    });
    await expect(get(`http://127.0.0.1:${p2}/loop`, allow)).rejects.toMatchObject({
      code: 'http_too_many_redirects',
    });
  });

  it('reaches loopback when the allowlist names it, by host, address, port or CIDR', async () => {
    for (const allow of [['localhost'], ['127.0.0.1'], [`127.0.0.1:${p1}`], ['127.0.0.0/8']]) {
      const host = allow[0] === 'localhost' ? 'localhost' : '127.0.0.1';
      expect(await get(`http://${host}:${p1}/`, allow), allow[0]).toEqual({
        status: 200,
        body: SECRET,
      });
    }
    // The port is part of the entry: another loopback port stays refused.
    await expect(get(`http://127.0.0.1:${p1}/`, [`127.0.0.1:${p2}`])).rejects.toMatchObject({
      code: 'http_destination_refused',
    });
  });
});
