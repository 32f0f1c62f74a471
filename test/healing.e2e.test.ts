// Auto-healing end to end with real parts: supervisord runs a demo web
// service, a built-in HTTP monitor watches it, the test kills it. The only
// stand-in is the model: a scripted Ollama test server.
import { afterEach, expect, it } from 'vitest';

import type { Incident } from '../src/incidents/incident-store.ts';
import { terminalStatuses } from '../src/engine/execution-store.ts';
import { installAutoHeal } from '../src/healing/auto-heal.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';
import type { Supervisor } from './helpers/supervisor.ts';
import { startSupervisor } from './helpers/supervisor.ts';

type Rig = { s: TestServices; sup: Supervisor; ollama: OllamaTestServer; monitorId: number };
const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.s.dispose();
    await r.sup.stop();
    await r.ollama.close();
  }
});

async function rig(extraEnv: Record<string, string> = {}): Promise<Rig> {
  const sup = await startSupervisor('demo');
  const ollama = await OllamaTestServer.start();
  const s = await makeTestServices('postgres', {
    OLLAMA_URL: ollama.url,
    MEMORY_EMBEDDER: 'lexical',
    WARDEN_EXEC_ALLOWED_UNITS: 'demo',
    WARDEN_SUPERVISOR_CONFIG: sup.configPath,
    WARDEN_HEAL_EVIDENCE_ACTIONS: 'supervisor.status',
    WARDEN_HEAL_VERIFY_TIMEOUT_MS: '20000',
    WARDEN_HEAL_VERIFY_INTERVAL_MS: '250',
    LLM_RETRIES: '0',
    ...extraEnv,
  });
  await installAutoHeal(s.engine);
  await s.engine.startWorker(2);
  const m = await s.monitors.create({
    name: 'demo',
    service: 'demo',
    spec: { kind: 'http', url: `${sup.demoUrl}/health`, keyword: 'demo ok' },
    retries: 0,
    intervalMs: 3_600_000,
  });
  const r = { s, sup, ollama, monitorId: m.id };
  rigs.push(r);
  return r;
}

const diagnosis = (
  risk: string,
  action = 'supervisor.restart',
  parameters: Record<string, unknown> = { program: 'demo' },
) =>
  JSON.stringify({
    summary: 'The demo web service is not running',
    rootCause: 'The demo process exited and supervisord did not restart it',
    confidence: 0.9,
    action: { name: action, parameters },
    risk,
  });
const agreed = JSON.stringify({
  verdict: 'AGREED',
  reasons: ['the process is down; a restart brings it back'],
});

/** Breaks the demo service and lets the monitor notice: returns the opened incident. */
async function breakDemo(r: Rig): Promise<Incident> {
  const before = new Set((await r.s.incidents.list()).map((i) => i.id));
  r.sup.killDemo();
  await r.sup.waitForDemo(false);
  const m = await r.s.monitors.checkNow(r.monitorId);
  expect(m.state).toBe('down');
  const opened = (await r.s.incidents.list()).find((i) => !before.has(i.id));
  expect(opened, 'the monitor opened an incident').toBeTruthy();
  return opened!;
}

/** Waits until the incident has one of the statuses and no healing execution is still running. */
async function waitForIncident(
  r: Rig,
  id: number,
  statuses: string[],
  timeoutMs = 60_000,
): Promise<Incident> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = await r.s.incidents.get(id);
    const running = (await r.s.engine.executions.list({})).filter(
      (e) => !terminalStatuses.includes(e.status),
    );
    if (statuses.includes(i.status) && running.length === 0) return i;
    if (Date.now() > deadline) {
      const { events } = await r.s.incidents.show(id);
      throw new Error(
        `incident ${id} is ${i.status}:\n${events.map((e) => `${e.type}: ${e.message}`).join('\n')}`,
      );
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

const eventTypes = async (r: Rig, id: number) =>
  (await r.s.incidents.show(id)).events.map((e) => e.type);
const chats = (r: Rig) =>
  r.ollama.requests.filter((q) => q.path !== '/api/version' && q.path !== '/api/tags');

const needs = missingPrograms([programs.supervisord, programs.supervisorctl]);

describeUnless(needs, 'auto-healing a supervisord service', () => {
  it('diagnoses and fixes it the first time, then fixes it from memory without the model', async () => {
    const r = await rig();
    r.ollama.script({ content: diagnosis('change') }, { content: agreed });

    const first = await breakDemo(r);
    const fixed = await waitForIncident(r, first.id, ['resolved', 'escalated']);
    expect(fixed.status).toBe('resolved');
    await r.sup.waitForDemo(true);
    const types = await eventTypes(r, first.id);
    for (const t of [
      'memory.matches',
      'evidence',
      'diagnosis',
      'consensus',
      'action.result',
      'verify',
      'memory.stored',
    ]) {
      expect(types, t).toContain(t);
    }
    // One diagnosis by the reasoning model, one verdict by the validator.
    const models = r.ollama.requestsTo('/api/chat').map((q) => q.body.model);
    expect(models).toEqual(['mistral:7b', 'phi3:mini']);
    const [remembered] = await r.s.memory.similar(first.summary, { topK: 1 });
    expect(remembered!.incident.fix).toEqual({
      action: 'supervisor.restart',
      parameters: { program: 'demo' },
    });
    expect(remembered!.incident.verified).toBe(true);

    // Second time: the memory match fixes it and the model is not asked at all.
    r.ollama.requests.length = 0;
    const second = await breakDemo(r);
    const again = await waitForIncident(r, second.id, ['resolved', 'escalated']);
    expect(again.status).toBe('resolved');
    await r.sup.waitForDemo(true);
    expect(r.ollama.requests).toEqual([]);
    const secondTypes = await eventTypes(r, second.id);
    expect(secondTypes).not.toContain('diagnosis');
    expect(secondTypes).toContain('action.result');

    // The audit log holds both restarts, asked for by the healing pipeline.
    const { rows } = await r.s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM exec_audit
        WHERE record->'caller'->>'kind' = 'healing' AND record->'input'->>'action' = 'supervisor.restart'`,
    );
    expect(rows[0]!.n).toBe(2);
  });

  it('never remediates for a resolved alert', async () => {
    const r = await rig();
    const before = (await r.s.engine.executions.list({})).length;
    const results = await r.s.incidents.ingest([
      {
        source: 'alertmanager',
        fingerprint: 'resolved-only',
        service: 'demo',
        severity: 'critical',
        status: 'resolved',
        summary: 'demo is fine again',
        labels: {},
        annotations: {},
        startsAt: new Date(),
        endsAt: new Date(),
        raw: {},
      },
    ]);
    expect(results[0]!.incidentId ?? null).toBeNull();
    await new Promise((res) => setTimeout(res, 300));
    expect((await r.s.engine.executions.list({})).length).toBe(before);
    expect(chats(r)).toEqual([]);
  });

  it('waits for a person before a dangerous action, and runs it only after approval', async () => {
    const r = await rig();
    r.ollama.script({ content: diagnosis('dangerous') });
    const incident = await breakDemo(r);
    await waitForIncident(r, incident.id, ['awaiting_approval', 'escalated', 'resolved']);
    expect((await r.s.incidents.get(incident.id)).status).toBe('awaiting_approval');
    const [pending] = await r.s.approvals.list({ status: 'pending' });
    expect(pending).toMatchObject({
      incidentId: incident.id,
      action: 'supervisor.restart',
      parameters: { program: 'demo' },
    });
    // Nothing ran: the service is still down and no restart was audited.
    await new Promise((res) => setTimeout(res, 500));
    expect((await r.s.monitors.checkNow(r.monitorId)).state).toBe('down');

    await r.s.approvals.decide(incident.id, 'approve', 'user:oncall');
    const fixed = await waitForIncident(r, incident.id, ['resolved', 'escalated']);
    expect(fixed.status).toBe('resolved');
    await r.sup.waitForDemo(true);
    const { rows } = await r.s.db.query<{ approval: unknown }>(
      `SELECT record->'input'->'approval' AS approval FROM exec_audit WHERE record->'input'->>'action' = 'supervisor.restart'`,
    );
    expect(rows.map((x) => x.approval)).toEqual([{ id: pending!.id, by: 'user:oncall' }]);
  });

  it('refuses a proposal outside the catalogue and escalates with the evidence', async () => {
    const r = await rig();
    r.ollama.script({
      content: diagnosis('change', 'shell.exec', { command: 'supervisorctl restart demo' }),
    });
    const incident = await breakDemo(r);
    const done = await waitForIncident(r, incident.id, ['escalated', 'resolved']);
    expect(done.status).toBe('escalated');
    const { events } = await r.s.incidents.show(incident.id);
    expect(events.find((e) => e.type === 'gate.refused')?.message).toMatch(
      /shell\.exec: not a valid catalogue action/,
    );
    expect(events.map((e) => e.type)).toContain('evidence');
    expect((await r.s.monitors.checkNow(r.monitorId)).state).toBe('down');
  });

  it('escalates without guessing when no model answers', async () => {
    const r = await rig({ OLLAMA_URL: 'http://127.0.0.1:1' });
    const incident = await breakDemo(r);
    const done = await waitForIncident(r, incident.id, ['escalated', 'resolved']);
    expect(done.status).toBe('escalated');
    const types = await eventTypes(r, incident.id);
    expect(types).toContain('diagnosis.failed');
    expect(types).not.toContain('action.result');
  });
});
