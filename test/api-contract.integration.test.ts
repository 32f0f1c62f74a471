// The API's common contract: every list pages the same way (`limit` and an
// opaque `cursor` in, the items and `nextCursor` out, keyset-stable while
// rows are added), and an action that needs no body takes none, an empty
// one, or `{}`, while a body that is there and wrong is still a 400.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import { encodeCursor, maxPageLimit } from '../src/server/paging.ts';
import { buildServer } from '../src/server/server.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import { findProgram } from './helpers/programs.ts';

let t: TestApp;
let admin: { authorization: string };
const routes: RouteOptions[] = [];

beforeAll(async () => {
  t = await makeTestApp('pglite');
  admin = await t.keyFor('admin');
  // The route table, as the app registers it.
  const probe = await buildServer(t.services, { onRoute: (r) => void routes.push(r) });
  await probe.close();
});
afterAll(() => t.close());

type Schema = { properties?: Record<string, unknown>; required?: string[] };

const get = (url: string) => t.app.inject({ url, headers: admin });

let alerts = 0;
function firing(service: string): NormalizedAlert {
  alerts++;
  return {
    source: 'alertmanager',
    fingerprint: `contract-${service}-${alerts}`,
    service,
    severity: 'critical',
    status: 'firing',
    summary: `${service} is down`,
    labels: { service },
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    raw: {},
  };
}

describe('one paging contract', () => {
  it('every GET that answers a list takes limit and cursor and answers nextCursor', () => {
    // A "list" is a GET of a collection (not one thing by its id) whose
    // answer has an array at its top level.
    const lists = routes.filter((r) => {
      if ([r.method].flat()[0] !== 'GET' || !r.url.startsWith('/api/v1/')) return false;
      if (/\/:\w+$/.test(r.url)) return false;
      const ok = (r.schema?.response as Record<string, Schema> | undefined)?.[200];
      return Object.values(ok?.properties ?? {}).some(
        (p) => (p as { type?: unknown }).type === 'array',
      );
    });
    const checked = lists;
    expect(checked.length).toBeGreaterThanOrEqual(18);
    for (const r of checked) {
      const query = r.schema?.querystring as Schema | undefined;
      expect(Object.keys(query?.properties ?? {}), r.url).toEqual(
        expect.arrayContaining(['limit', 'cursor']),
      );
      const ok = (r.schema!.response as Record<string, Schema>)[200]!;
      expect(ok.required, r.url).toContain('nextCursor');
    }
    // The lists the console and CLI use are among them.
    for (const url of [
      '/api/v1/executions',
      '/api/v1/workflows',
      '/api/v1/incidents',
      '/api/v1/alerts',
      '/api/v1/approvals',
      '/api/v1/memory',
      '/api/v1/monitors',
      '/api/v1/monitors/:id/checks',
      '/api/v1/users',
      '/api/v1/api-keys',
      '/api/v1/alert-endpoints',
      '/api/v1/credentials',
      '/api/v1/audit',
      '/api/v1/actions',
      '/api/v1/maintenance-windows',
    ])
      expect(
        checked.map((r) => r.url),
        url,
      ).toContain(url);
  });

  it('every list without path parameters answers its items and nextCursor', async () => {
    const urls = routes
      .filter(
        (r) =>
          [r.method].flat()[0] === 'GET' &&
          !r.url.includes(':') &&
          (r.schema?.querystring as Schema | undefined)?.properties?.cursor !== undefined,
      )
      .map((r) => r.url);
    expect(urls.length).toBeGreaterThanOrEqual(15);
    for (const url of urls) {
      const res = await get(`${url}?limit=1`);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      const body = res.json() as Record<string, unknown>;
      expect(Object.keys(body), url).toContain('nextCursor');
      const next = body.nextCursor;
      expect(next === null || typeof next === 'string', url).toBe(true);
      const arrays = Object.values(body).filter(Array.isArray);
      expect(arrays, url).toHaveLength(1);
      expect(arrays[0]!.length, url).toBeLessThanOrEqual(1);
      // limit's bounds and a made-up cursor are 400s that say what was wrong.
      const over = await get(`${url}?limit=${maxPageLimit + 1}`);
      expect(over.statusCode, url).toBe(400);
      expect(over.json().error.message, url).toMatch(/limit/);
      const bad = await get(`${url}?cursor=not-a-cursor`);
      expect(bad.statusCode, url).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'invalid_cursor' });
      expect(bad.json().error.message, url).toMatch(/nextCursor/);
    }
  });

  it('pages executions newest first, each once, and rows added meanwhile shift nothing', async () => {
    const wf = await t.services.engine.createWorkflow({
      name: 'paged runs',
      nodes: [{ name: 'Start', type: 'manual' }],
      connections: {},
    });
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push(await t.services.engine.runManual(wf.id));
    const url = `/api/v1/executions?workflowId=${wf.id}&limit=3`;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(cursor ? `${url}&cursor=${cursor}` : url);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { executions: { id: string }[]; nextCursor: string | null };
      seen.push(...body.executions.map((e) => e.id));
      cursor = body.nextCursor;
      // A run started after the first page is newer than every row still to come.
      if (pages++ === 0) made.push(await t.services.engine.runManual(wf.id));
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(made.slice(0, 7).reverse());
    // A cursor for a list of another shape is refused.
    const wrong = await get(`/api/v1/executions?cursor=${encodeCursor([7])}`);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.code).toBe('invalid_cursor');
  });

  it('pages workflows by id, and one created meanwhile comes last, once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (
          await t.services.engine.createWorkflow({
            name: `paged ${i}`,
            nodes: [{ name: 'Start', type: 'manual' }],
            connections: {},
          })
        ).id,
      );
    const seen: number[] = [];
    let cursor: string | null = null;
    let added: number | undefined;
    do {
      const res = await get(`/api/v1/workflows?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const body = res.json() as { workflows: { id: number }[]; nextCursor: string | null };
      seen.push(...body.workflows.map((w) => w.id));
      cursor = body.nextCursor;
      added ??= (
        await t.services.engine.createWorkflow({
          name: 'added while paging',
          nodes: [{ name: 'Start', type: 'manual' }],
          connections: {},
        })
      ).id;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(seen).toEqual(expect.arrayContaining([...ids, added!]));
    expect(seen.at(-1)).toBe(added);
  });

  it('pages incidents newest first with the same contract', async () => {
    const service = `paged-${Date.now()}`;
    for (let i = 0; i < 3; i++) await t.services.incidents.ingest([firing(`${service}-${i}`)]);
    const first = await get('/api/v1/incidents?limit=2');
    const a = first.json() as { incidents: { id: number }[]; nextCursor: string };
    expect(a.incidents).toHaveLength(2);
    const second = await get(`/api/v1/incidents?limit=2&cursor=${a.nextCursor}`);
    const b = second.json() as { incidents: { id: number }[] };
    expect(b.incidents[0]!.id).toBeLessThan(a.incidents[1]!.id);
  });
});

describe('empty bodies', () => {
  async function pendingApproval(): Promise<number> {
    const [r] = await t.services.incidents.ingest([firing(`approve-${Date.now()}`)]);
    const id = r!.incidentId!;
    await t.services.approvals.request({
      incidentId: id,
      action: 'systemctl_restart',
      parameters: { unit: 'nginx.service' },
      risk: 'dangerous',
      reason: 'a restart drops connections',
    });
    return id;
  }

  it('approves with no body, an empty JSON body, or {}', async () => {
    const ways = [
      { name: 'no body, no content type', payload: undefined, type: undefined },
      { name: 'empty body labelled JSON', payload: '', type: 'application/json' },
      { name: '{}', payload: '{}', type: 'application/json' },
    ];
    for (const way of ways) {
      const id = await pendingApproval();
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${id}/approve`,
        headers: { ...admin, ...(way.type ? { 'content-type': way.type } : {}) },
        ...(way.payload === undefined ? {} : { payload: way.payload }),
      });
      expect(res.statusCode, `${way.name}: ${res.body}`).toBe(200);
      expect(res.json()).toMatchObject({ status: 'approved', incidentId: id });
    }
  });

  it.skipIf(!findProgram('curl'))(
    "takes the README's curl form (curl -X POST with only the Authorization header)",
    async () => {
      const id = await pendingApproval();
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const { stdout } = await promisify(execFile)('curl', [
          '-s',
          '-w',
          '\n%{http_code}',
          '-X',
          'POST',
          '-H',
          admin.authorization.replace(/^/, 'Authorization: '),
          `${base}/api/v1/incidents/${id}/reject`,
        ]);
        const [body, status] = stdout.split('\n');
        expect(status, body).toBe('200');
        expect(JSON.parse(body!)).toMatchObject({ status: 'rejected', incidentId: id });
      } finally {
        t.app.server.closeAllConnections();
      }
    },
  );

  it('still refuses a body that is there and wrong, saying what is wrong', async () => {
    const id = await pendingApproval();
    const tooLong = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/approve`,
      headers: admin,
      payload: { comment: 'x'.repeat(2001) },
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toMatch(/comment/);
    const notJson = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/approve`,
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{"comment": ',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.requestId).toBeTruthy();
    // An action that needs nothing refuses fields it does not know.
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/v1/executions/00000000-0000-4000-8000-000000000000/cancel',
      headers: admin,
      payload: { force: true },
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('invalid_request');
    // A route that needs a field says which one, not "body must be object".
    const note = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: admin,
    });
    expect(note.statusCode).toBe(400);
    expect(note.json().error.message).toMatch(/text/);
  });

  it('cancels and retries an execution with no body', async () => {
    const wf = await t.services.engine.createWorkflow({
      name: 'bodiless',
      nodes: [{ name: 'Start', type: 'manual' }],
      connections: {},
    });
    const id = await t.services.engine.runManual(wf.id);
    for (const what of ['cancel', 'retry']) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/executions/${id}/${what}`,
        headers: { ...admin, 'content-type': 'application/json' },
      });
      // The answer is about the execution (cancelled, or not retriable yet), never about a body.
      expect(res.body, what).not.toMatch(/body/);
      expect([200, 202, 409], `${what}: ${res.body}`).toContain(res.statusCode);
    }
  });
});
