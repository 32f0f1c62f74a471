// Hostile alert payloads through the HTTP server: whatever a sender writes
// gets a 2xx or a 4xx naming the problem, never a 5xx, and a notification is
// stored whole or not at all; the same notification sent twice stores its
// alerts once. Each payload here once got HTTP 500 or a partial batch.
import { randomBytes } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildServer } from '../src/server/server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

const objectWords = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  '__defineGetter__',
  'isPrototypeOf',
];

function amAlert(labels: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    status: 'firing',
    labels,
    annotations: { summary: 'hostile' },
    startsAt: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

function amGroup(alerts: unknown[]) {
  return JSON.stringify({ version: '4', status: 'firing', alerts, commonLabels: {} });
}

function randomText(n: number): string {
  return randomBytes(n).toString('base64').slice(0, n);
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Every payload: [name, source, body, content type]. */
function corpus(): [string, string, string, string][] {
  const json = 'application/json';
  const out: [string, string, string, string][] = [];
  for (const w of objectWords) {
    out.push([
      `severity ${w}`,
      'alertmanager',
      amGroup([amAlert({ alertname: 'x', severity: w, service: `sev-${w}` })]),
      json,
    ]);
    out.push([
      `label named ${w}`,
      'alertmanager',
      amGroup([amAlert({ [w]: 'v', alertname: `lbl-${w}` })]),
      json,
    ]);
    out.push([
      `status ${w}`,
      'alertmanager',
      amGroup([amAlert({ alertname: 'x' }, { status: w })]),
      json,
    ]);
    out.push([
      `grafana legacy state ${w}`,
      'grafana',
      JSON.stringify({ ruleId: 1, ruleName: 'r', state: w }),
      json,
    ]);
    out.push([
      `grafana unified state ${w}`,
      'grafana',
      JSON.stringify({
        version: '1',
        orgId: 1,
        state: w,
        status: 'firing',
        alerts: [amAlert({ alertname: `g-${w}` })],
        commonLabels: {},
      }),
      json,
    ]);
    out.push([
      `kuma status ${w}`,
      'uptime-kuma',
      JSON.stringify({ heartbeat: { status: w }, monitor: { name: w, id: 1 }, msg: w }),
      json,
    ]);
    out.push([
      `form field ${w}`,
      'uptime-kuma',
      `${encodeURIComponent(w)}=${encodeURIComponent('{"polluted":true}')}&monitor=%7B%7D`,
      'application/x-www-form-urlencoded',
    ]);
  }
  out.push([
    '__proto__ as a JSON key',
    'alertmanager',
    `{"__proto__":{"alerts":[]},"version":"4","alerts":[${JSON.stringify(amAlert({ alertname: 'proto' }))}]}`,
    json,
  ]);
  out.push([
    'lone high surrogate in a label',
    'alertmanager',
    amGroup([amAlert({ alertname: 'sur\ud800x', service: 'surrogates' })]),
    json,
  ]);
  out.push([
    'lone low surrogate in a summary',
    'alertmanager',
    amGroup([
      {
        ...amAlert({ alertname: 'low', service: 'surrogates' }),
        annotations: { summary: '\udc00' },
      },
    ]),
    json,
  ]);
  out.push([
    'lone surrogate in a key',
    'alertmanager',
    amGroup([amAlert({ alertname: 'keysur', service: 'surrogates', ['\ud83d']: 'v' })]),
    json,
  ]);
  out.push([
    'fingerprint too long for an index',
    'alertmanager',
    amGroup([amAlert({ alertname: 'fp' }, { fingerprint: randomText(4000) })]),
    json,
  ]);
  out.push([
    'service too long for an index',
    'alertmanager',
    amGroup([amAlert({ alertname: 'svc', service: randomText(4000) })]),
    json,
  ]);
  out.push(['deeply nested JSON (5,000)', 'alertmanager', nested(5_000), json]);
  out.push([
    'deeply nested raw item (100)',
    'alertmanager',
    amGroup([amAlert({ alertname: 'deep' }, { extra: JSON.parse(nested(100)) as unknown })]),
    json,
  ]);
  out.push([
    'nested arrays (20,000)',
    'alertmanager',
    `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    json,
  ]);
  out.push([
    'NUL in a label',
    'alertmanager',
    amGroup([amAlert({ alertname: 'nul\u0000' })]),
    json,
  ]);
  out.push(['not JSON', 'alertmanager', '{"version":', json]);
  out.push(['a number', 'alertmanager', '42', json]);
  out.push(['null', 'grafana', 'null', json]);
  out.push(['alerts is an object', 'alertmanager', '{"version":"4","alerts":{"length":1}}', json]);
  out.push([
    'labels is an array',
    'alertmanager',
    amGroup([{ ...amAlert({}), labels: ['a'] }]),
    json,
  ]);
  out.push([
    'startsAt year 0',
    'alertmanager',
    amGroup([amAlert({ alertname: 'y0' }, { startsAt: '0000-01-01T00:00:00Z' })]),
    json,
  ]);
  out.push([
    'startsAt huge number',
    'alertmanager',
    amGroup([amAlert({ alertname: 'big' }, { startsAt: 1e300 })]),
    json,
  ]);
  out.push([
    'multipart with a __proto__ field',
    'uptime-kuma',
    '--b\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\n{"x":1}\r\n--b--\r\n',
    'multipart/form-data; boundary=b',
  ]);
  return out;
}

describe('hostile alert payloads', () => {
  let s: TestServices;
  let app: FastifyInstance;
  const tokens: Record<string, string> = {};

  const post = (source: string, payload: string, type: string, headers = {}) =>
    app.inject({
      method: 'POST',
      url: `/hooks/alerts/${source}/${tokens[source]}`,
      payload,
      headers: { 'content-type': type, ...headers },
    });

  const count = async (table: string) =>
    (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

  beforeAll(async () => {
    s = await makeTestServices('postgres', { WARDEN_HEAL_ENABLED: 'false' });
    app = await buildServer(s);
    for (const source of ['uptime-kuma', 'alertmanager', 'grafana'] as const)
      tokens[source] = (await s.alertEndpoints.create({ name: source, source })).token;
  });

  afterAll(async () => {
    await app?.close();
    await s?.dispose();
  });

  it('answers every hostile payload with a 2xx or a 4xx that names the problem, never a 5xx', async () => {
    const answers: { name: string; status: number; body: string }[] = [];
    for (const [name, source, payload, type] of corpus()) {
      const res = await post(source, payload, type);
      answers.push({ name, status: res.statusCode, body: res.body });
    }
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    for (const a of answers.filter((x) => x.status >= 400))
      expect(JSON.parse(a.body) as unknown, a.name).toMatchObject({
        error: { code: expect.any(String) as unknown, message: expect.any(String) as unknown },
      });
    // Nothing became a prototype: no object in this process grew a field.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A severity spelled like an Object property is no severity: the fallback is stored.
    const { rows } = await s.db.query<{ severity: string }>(
      "SELECT DISTINCT severity FROM alerts WHERE service LIKE 'sev-%'",
    );
    expect(rows.map((r) => r.severity)).toEqual(['warning']);
  });

  it('stores a batch whole or not at all: an alert that fails in the database stores none of its batch', async () => {
    const before = await count('alerts');
    const good = {
      source: 'alertmanager' as const,
      fingerprint: 'whole-1',
      service: 'whole',
      severity: 'critical' as const,
      status: 'firing' as const,
      summary: 'first of the batch',
      labels: {},
      annotations: {},
      startsAt: new Date(),
      endsAt: null,
      raw: {},
    };
    // The second alert breaks a constraint after the first one's rows were written.
    const bad = { ...good, fingerprint: 'whole-2', severity: 'bogus' as 'critical' };
    await expect(s.incidents.ingest([good, bad])).rejects.toThrow();
    expect(await count('alerts')).toBe(before);
    expect(await s.incidents.list({ service: 'whole' })).toEqual([]);
  });

  it('stores each alert of a notification once when the sender sends it twice', async () => {
    const body = amGroup(
      Array.from({ length: 12 }, (_, i) => amAlert({ alertname: `retry-${i}`, service: 'retry' })),
    );
    const before = await count('alerts');
    const first = await post('alertmanager', body, 'application/json');
    const again = await post('alertmanager', body, 'application/json');
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 12, replayed: true });
    expect(again.json<{ results: unknown }>().results).toEqual(
      first.json<{ results: unknown }>().results,
    );
    expect(await count('alerts')).toBe(before + 12);
    // The same Idempotency-Key with other bytes (a re-encoded retry) is the same notification.
    const keyed = amGroup([amAlert({ alertname: 'keyed', service: 'retry' })]);
    await post('alertmanager', keyed, 'application/json', { 'idempotency-key': 'n-1' });
    const reencoded = await post('alertmanager', ` ${keyed}`, 'application/json', {
      'idempotency-key': 'n-1',
    });
    expect(reencoded.json()).toMatchObject({ replayed: true });
    expect(await count('alerts')).toBe(before + 13);
  });
});
