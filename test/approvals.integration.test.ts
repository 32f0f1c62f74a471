// Human approvals: requested with a notification, decided once by API or
// CLI, expiring on their own, every step on the incident's timeline.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Approval } from '../src/approvals/approval-service.ts';
import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import { runWarden } from './helpers/cli.ts';
import type { HttpSink } from './helpers/http-sink.ts';
import { startHttpSink } from './helpers/http-sink.ts';
import { dbKinds } from './helpers/services.ts';

let counter = 0;
function firing(service: string): NormalizedAlert {
  counter++;
  return {
    source: 'alertmanager',
    fingerprint: `fp-${service}-${counter}`,
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

for (const kind of dbKinds) {
  describe(`approvals on ${kind}`, () => {
    let t: TestApp;
    let sink: HttpSink;
    const decided: Approval[] = [];
    beforeAll(async () => {
      sink = await startHttpSink();
      t = await makeTestApp(kind, { WARDEN_NOTIFY_WEBHOOK_URL: `${sink.url}/notify` });
      t.services.approvals.onDecision((a) => {
        decided.push(a);
      });
    });
    afterAll(async () => {
      await t.close();
      await sink.close();
    });

    async function openIncident(service: string): Promise<number> {
      const [r] = await t.services.incidents.ingest([firing(service)]);
      return r!.incidentId!;
    }

    it('asks a person, once, and tells them what and why', async () => {
      const id = await openIncident('postgres');
      const a = await t.services.approvals.request({
        incidentId: id,
        action: 'systemctl_restart',
        parameters: { unit: 'postgresql.service' },
        risk: 'dangerous',
        reason: 'restarting the database drops every connection',
      });
      expect(a).toMatchObject({ status: 'pending', incidentId: id });
      expect((await t.services.incidents.get(id)).status).toBe('awaiting_approval');
      const [note] = await sink.waitFor(1);
      const body = JSON.parse(note!.body);
      expect(body).toMatchObject({ kind: 'approval_needed', incidentId: id });
      expect(body.text).toContain('systemctl_restart');
      expect(body.text).toContain(`warden incidents approve ${id}`);
      await expect(
        t.services.approvals.request({
          incidentId: id,
          action: 'x',
          parameters: {},
          risk: 'dangerous',
          reason: 'again',
        }),
      ).rejects.toMatchObject({ code: 'approval_pending' });
    });

    it('is decided by an operator through the API, and only once', async () => {
      const id = await openIncident('nginx');
      await t.services.approvals.request({
        incidentId: id,
        action: 'nginx_reload',
        parameters: {},
        risk: 'dangerous',
        reason: 'r',
      });
      const viewer = await t.keyFor('viewer');
      const operator = await t.keyFor('operator');
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: `/api/v1/incidents/${id}/approve`,
            headers: viewer,
            payload: {},
          })
        ).statusCode,
      ).toBe(403);
      const ok = await t.app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${id}/approve`,
        headers: operator,
        payload: { comment: 'go' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({
        status: 'approved',
        decidedBy: 'api_key:test-operator',
        comment: 'go',
      });
      expect(decided.at(-1)).toMatchObject({ incidentId: id, status: 'approved' });
      const again = await t.app.inject({
        method: 'POST',
        url: `/api/v1/incidents/${id}/reject`,
        headers: operator,
        payload: {},
      });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.message).toMatch(/already approved \(by api_key:test-operator\)/);
      const { events } = await t.services.incidents.show(id);
      expect(events.map((e) => e.type)).toContain('approval.approved');
      const none = await t.app.inject({
        method: 'POST',
        url: `/api/v1/incidents/424242/approve`,
        headers: operator,
        payload: {},
      });
      expect(none.statusCode).toBe(404);
    });

    it('expires when nobody decides in time', async () => {
      const id = await openIncident('redis');
      await t.services.approvals.request({
        incidentId: id,
        action: 'redis_flush',
        parameters: {},
        risk: 'dangerous',
        reason: 'r',
        ttlMs: 1,
      });
      await new Promise((r) => setTimeout(r, 20));
      await expect(t.services.approvals.decide(id, 'approve', 'late')).rejects.toThrow(
        /already expired/,
      );
      expect(decided.at(-1)).toMatchObject({ incidentId: id, status: 'expired' });
      const { events } = await t.services.incidents.show(id);
      expect(events.map((e) => e.type)).toContain('approval.expired');
    });
  });
}

describe('warden incidents reject', () => {
  it('rejects from the command line, naming who did it', async () => {
    const t = await makeTestApp('postgres');
    try {
      const [r] = await t.services.incidents.ingest([firing('cron')]);
      const id = r!.incidentId!;
      await t.services.approvals.request({
        incidentId: id,
        action: 'reboot',
        parameters: {},
        risk: 'dangerous',
        reason: 'r',
      });
      const cwd = mkdtempSync(join(tmpdir(), 'warden-approve-'));
      const res = await runWarden(
        ['incidents', 'reject', String(id), '--comment', 'not now', '--json'],
        {
          cwd,
          env: {
            DATABASE_URL: t.services.config.database.url!,
            WARDEN_DATA_DIR: t.services.dataDir,
          },
        },
      );
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({
        status: 'rejected',
        comment: 'not now',
        decidedBy: expect.stringMatching(/^cli:/),
      });
    } finally {
      await t.close();
    }
  });
});
