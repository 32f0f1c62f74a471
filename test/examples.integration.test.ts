// examples/ cannot rot: every example workflow is imported through the real
// API and engine (and activated, so its trigger is checked), the webhook one
// answers as examples/README.md says, every runbook's fix and probes are
// catalogue actions, and every alert payload is accepted by its endpoint.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

const dir = fileURLToPath(new URL('../examples/', import.meta.url));
const files = (sub: string, ext: string) =>
  readdirSync(`${dir}${sub}`)
    .filter((f) => f.endsWith(ext))
    .sort();
const read = (path: string) => readFileSync(`${dir}${path}`, 'utf8');

describe('examples/', () => {
  let t: TestApp;
  let admin: { authorization: string };
  beforeAll(async () => {
    t = await makeTestApp('postgres');
    await t.services.engine.startWorker(2);
    admin = await t.keyFor('admin');
  });
  afterAll(async () => t?.close());

  it('has the three workflows the README names', () => {
    expect(files('workflows', '.json')).toEqual([
      'incident-to-chat.json',
      'scheduled-health-check.json',
      'webhook-greeting.json',
    ]);
  });

  it('imports and activates every example workflow through the API', async () => {
    for (const f of files('workflows', '.json')) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/workflows',
        headers: admin,
        payload: JSON.parse(read(`workflows/${f}`)) as object,
      });
      expect(created.statusCode, `${f}: ${created.body}`).toBe(201);
      const { id } = created.json<{ id: number }>();
      const active = await t.app.inject({
        method: 'POST',
        url: `/api/v1/workflows/${id}/activate`,
        headers: admin,
      });
      expect(active.statusCode, `${f}: ${active.body}`).toBe(200);
    }
  });

  it('answers the webhook example as its README says', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/webhook/example-greeting',
      payload: { name: 'Ada', n: 21 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ greeting: 'hello Ada', double: 42 });
  });

  it('names only catalogue actions in the runbooks, probes being read actions', async () => {
    for (const f of files('runbooks', '.yaml')) {
      const doc = parse(read(`runbooks/${f}`)) as {
        runbooks: {
          title: string;
          service: string;
          fix: { action: string; parameters?: Record<string, unknown> };
          probes?: { action: string; parameters?: Record<string, unknown>; expect: string }[];
        }[];
      };
      expect(doc.runbooks.length, f).toBeGreaterThan(0);
      for (const r of doc.runbooks) {
        expect(r.title && r.service, `${f}: title and service`).toBeTruthy();
        await t.services.exec.catalogue.render(r.fix.action, r.fix.parameters ?? {});
        for (const p of r.probes ?? []) {
          const rendered = await t.services.exec.catalogue.render(p.action, p.parameters ?? {});
          expect(rendered.action.risk, `${f}: probe ${p.action}`).toBe('read');
        }
      }
    }
  });

  it('accepts every example alert payload at its endpoint', async () => {
    const sources: Record<string, string> = {
      generic: 'generic',
      alertmanager: 'alertmanager',
      grafana: 'grafana',
      'uptime-kuma': 'uptime-kuma',
    };
    const tokens: Record<string, string> = {};
    for (const source of Object.keys(sources)) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/alert-endpoints',
        headers: admin,
        payload: { name: `ex-${source}`, source },
      });
      expect(res.statusCode, res.body).toBe(201);
      tokens[source] = res.json<{ token: string }>().token;
    }
    for (const f of files('alerts', '.json')) {
      const source = Object.keys(sources).find((s) => f.startsWith(s))!;
      expect(source, `${f} names its source`).toBeDefined();
      const url =
        source === 'generic' ? '/api/v1/alerts/generic/ex-generic' : `/api/v1/alerts/${source}`;
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${tokens[source]}`, 'content-type': 'application/json' },
        payload: read(`alerts/${f}`),
      });
      expect(res.statusCode, `${f}: ${res.body}`).toBe(200);
      const body = res.json<{ accepted: number; rejected: unknown[] }>();
      expect(body.rejected, f).toEqual([]);
      expect(body.accepted, f).toBeGreaterThan(0);
    }
  });
});
