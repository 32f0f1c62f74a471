// The routes the console's incident page, catalogue, audit page and storm
// panel use, against real PostgreSQL: acknowledge, notes and reopen with
// the operator role and their refusals (viewer 403, wrong state 409, bad
// body 400, unknown incident 404); the catalogue; the audit log with its
// filters, cursor and admin-only rule; the dashboard's storm state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

let counter = 0;
function alert(
  service: string,
  status: 'firing' | 'resolved',
  fingerprint?: string,
): NormalizedAlert {
  counter++;
  return {
    source: 'alertmanager',
    fingerprint: fingerprint ?? `fp-${service}-${counter}`,
    service,
    severity: 'critical',
    status,
    summary: `${service} is down`,
    labels: { service },
    annotations: {},
    startsAt: new Date(),
    endsAt: null,
    raw: {},
  };
}

let t: TestApp;
let viewer: { authorization: string };
let operator: { authorization: string };
let admin: { authorization: string };

async function openIncident(service: string, fingerprint?: string): Promise<number> {
  const [r] = await t.services.incidents.ingest([alert(service, 'firing', fingerprint)]);
  return r!.incidentId!;
}

beforeAll(async () => {
  // A storm pauses automatic actions above 3 incidents within the window.
  t = await makeTestApp('postgres', { WARDEN_HEAL_STORM_PAUSE_AFTER: '3' });
  viewer = await t.keyFor('viewer');
  operator = await t.keyFor('operator');
  admin = await t.keyFor('admin');
});
afterAll(async () => t?.close());

describe('acknowledge', () => {
  it('records who acknowledged on the timeline, once per opening, without changing the status', async () => {
    const id = await openIncident('ack-web');
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: operator,
      payload: {},
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ type: 'acknowledged', actor: 'api_key:test-operator' });
    const shown = await t.services.incidents.show(id);
    expect(shown.incident.status).toBe('open');
    expect(shown.events.filter((e) => e.type === 'acknowledged')).toHaveLength(1);

    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: admin,
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_acknowledged');
    expect(again.json().error.message).toContain('api_key:test-operator');
  });

  it('refuses a viewer, an unknown incident and a body with fields it does not take', async () => {
    const id = await openIncident('ack-refusals');
    const byViewer = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: viewer,
      payload: {},
    });
    expect(byViewer.statusCode).toBe(403);
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/incidents/999999/acknowledge',
      headers: operator,
      payload: {},
    });
    expect(missing.statusCode).toBe(404);
    const extra = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: operator,
      payload: { status: 'resolved' },
    });
    expect(extra.statusCode).toBe(400);
    const events = (await t.services.incidents.show(id)).events;
    expect(events.some((e) => e.type === 'acknowledged')).toBe(false);
  });
});

describe('acknowledge race', () => {
  it('many people acknowledging at once: one is recorded, the others told who was first', async () => {
    const id = await openIncident('ack-race');
    const keys = await Promise.all(Array.from({ length: 4 }, () => t.keyFor('operator')));
    const answers = await Promise.all(
      [...keys, ...keys, operator, admin].map((headers) =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/incidents/${id}/acknowledge`,
          headers,
          payload: {},
        }),
      ),
    );
    const codes = answers.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(codes.length - 1);
    const events = (await t.services.incidents.show(id)).events;
    expect(events.filter((e) => e.type === 'acknowledged')).toHaveLength(1);
  });
});

describe('notes', () => {
  it('adds a note with its author; an empty note and a viewer are refused', async () => {
    const id = await openIncident('notes-web');
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: operator,
      payload: { text: '  disk on db-2 is at 97 %  ' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      type: 'note',
      message: 'disk on db-2 is at 97 %',
      actor: 'api_key:test-operator',
    });
    const blank = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: operator,
      payload: { text: '   ' },
    });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.code).toBe('empty_note');
    const tooLong = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: operator,
      payload: { text: 'x'.repeat(4001) },
    });
    expect(tooLong.statusCode).toBe(400);
    const missingText = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: operator,
      payload: {},
    });
    expect(missingText.statusCode).toBe(400);
    const byViewer = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/notes`,
      headers: viewer,
      payload: { text: 'looked' },
    });
    expect(byViewer.statusCode).toBe(403);
    const notes = (await t.services.incidents.show(id)).events.filter((e) => e.type === 'note');
    expect(notes.map((n) => n.message)).toEqual(['disk on db-2 is at 97 %']);
  });
});

describe('reopen', () => {
  it('reopens a resolved incident, which can then be acknowledged again; an open one is refused', async () => {
    const id = await openIncident('reopen-web', 'fp-reopen-web');
    const early = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/reopen`,
      headers: operator,
      payload: {},
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('incident_not_resolved');

    await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: operator,
      payload: {},
    });
    await t.services.incidents.ingest([alert('reopen-web', 'resolved', 'fp-reopen-web')]);
    expect((await t.services.incidents.get(id)).status).toBe('resolved');
    const ackResolved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: operator,
      payload: {},
    });
    expect(ackResolved.statusCode).toBe(409);
    expect(ackResolved.json().error.code).toBe('incident_resolved');

    const byViewer = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/reopen`,
      headers: viewer,
      payload: { reason: 'no' },
    });
    expect(byViewer.statusCode).toBe(403);

    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/reopen`,
      headers: operator,
      payload: { reason: 'still failing for users' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: 'open', resolvedAt: null });
    const events = (await t.services.incidents.show(id)).events;
    expect(events.at(-1)).toMatchObject({
      type: 'reopened',
      actor: 'api_key:test-operator',
      message: 'reopened by api_key:test-operator: still failing for users',
    });
    const ackAgain = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/acknowledge`,
      headers: admin,
      payload: {},
    });
    expect(ackAgain.statusCode).toBe(201);
  });
});

describe('reopen race', () => {
  it('a resolved incident reopened by several people at once is reopened once', async () => {
    const id = await openIncident('reopen-race', 'fp-reopen-race');
    await t.services.incidents.ingest([alert('reopen-race', 'resolved', 'fp-reopen-race')]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/incidents/${id}/reopen`,
          headers: operator,
          payload: {},
        }),
      ),
    );
    const codes = answers.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409, 409, 409, 409, 409]);
    const events = (await t.services.incidents.show(id)).events;
    expect(events.filter((e) => e.type === 'reopened')).toHaveLength(1);
  });
});

describe('catalogue', () => {
  it('lists every action with its risk, typed parameters and verify probe to any role', async () => {
    const res = await t.app.inject({ url: '/api/v1/actions', headers: viewer });
    expect(res.statusCode).toBe(200);
    const { actions } = res.json() as {
      actions: { name: string; risk: string; params: Record<string, { type: string }> }[];
    };
    const stored = await t.services.exec.catalogue.list();
    expect(actions.map((a) => a.name).sort()).toEqual(stored.map((a) => a.name).sort());
    for (const a of actions) expect(['read', 'change', 'dangerous']).toContain(a.risk);
    const withParams = stored.find((a) => Object.keys(a.params).length > 0)!;
    expect(actions.find((a) => a.name === withParams.name)!.params).toEqual(withParams.params);
    const noAuth = await t.app.inject({ url: '/api/v1/actions' });
    expect(noAuth.statusCode).toBe(401);
  });
});

describe('audit log', () => {
  it('is for admins only, filters by actor, action, decision and time, and pages by cursor', async () => {
    const { audit } = t.services.exec;
    const before = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 5; i++)
      await audit.append({
        caller: { kind: 'mcp', id: 'audit-web-client' },
        operation: 'run_action',
        input: { action: 'service.restart', params: { unit: `u${i}` } },
        decision: i % 2 === 0 ? 'allowed' : 'refused',
        rule: 'test',
      });
    await audit.append({
      caller: { kind: 'cli', id: 'audit-web-other' },
      operation: 'execute_command',
      input: { command: 'uptime' },
      decision: 'allowed',
      rule: 'test',
    });

    for (const headers of [viewer, operator]) {
      const res = await t.app.inject({ url: '/api/v1/audit', headers });
      expect(res.statusCode).toBe(403);
    }
    const byActor = await t.app.inject({
      url: '/api/v1/audit?actor=mcp:audit-web-client&decision=allowed',
      headers: admin,
    });
    expect(byActor.statusCode).toBe(200);
    const page = byActor.json() as { records: { seq: number; decision: string }[] };
    expect(page.records).toHaveLength(3);
    expect(page.records.every((r) => r.decision === 'allowed')).toBe(true);

    const byAction = await t.app.inject({
      url: `/api/v1/audit?action=service.restart&from=${encodeURIComponent(before)}`,
      headers: admin,
    });
    expect((byAction.json() as { records: unknown[] }).records).toHaveLength(5);
    const future = await t.app.inject({
      url: `/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
      headers: admin,
    });
    expect((future.json() as { records: unknown[] }).records).toHaveLength(0);

    // Two at a time, newest first, until the cursor runs out: every record once.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/audit?actor=audit-web-client&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.app.inject({ url, headers: admin });
      const body = res.json() as { records: { seq: number }[]; nextCursor: string | null };
      seen.push(...body.records.map((r) => r.seq));
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    // Filter values are data, never SQL.
    for (const actor of ["' OR 1=1 --", "mcp:audit-web-client' OR '1'='1"]) {
      const res = await t.app.inject({
        url: `/api/v1/audit?actor=${encodeURIComponent(actor)}`,
        headers: admin,
      });
      expect(res.statusCode).toBe(200);
      expect((res.json() as { records: unknown[] }).records).toEqual([]);
    }
    for (const bad of ['decision=maybe', 'from=yesterday', 'limit=0', 'limit=501', 'color=red']) {
      const res = await t.app.inject({ url: `/api/v1/audit?${bad}`, headers: admin });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
    }
    // The cursor is opaque: a made-up one is refused, saying what to send.
    for (const bad of ['12', 'bm90LWpzb24', Buffer.from('["x"]').toString('base64url')]) {
      const res = await t.app.inject({ url: `/api/v1/audit?cursor=${bad}`, headers: admin });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('invalid_cursor');
    }
    const verify = await t.app.inject({ url: '/api/v1/audit/verify', headers: admin });
    expect(verify.json()).toMatchObject({ ok: true });
  });
});

describe('dashboard storm state', () => {
  it('says automatic actions are paused, and why, once more incidents opened than the threshold', async () => {
    const read = async () =>
      (
        (await t.app.inject({ url: '/api/v1/dashboard', headers: viewer })).json() as {
          storm: { paused: boolean; openedInWindow: number; reason: string | null };
        }
      ).storm;
    const opened = (await read()).openedInWindow;
    for (let i = opened; i <= 3; i++) await openIncident(`storm-web-${i}`);
    const storm = await read();
    expect(storm.openedInWindow).toBeGreaterThan(3);
    expect(storm.paused).toBe(true);
    expect(storm.reason).toContain('more than 3');
  });
});

describe('notification test without channels', () => {
  it('answers 409 naming the settings to set, rather than reporting a send', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notifications/test',
      headers: admin,
      payload: {},
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'no_channels' });
    expect(res.json().error.message).toContain('WARDEN_NOTIFY_WEBHOOK_URL');
  });
});
