// Auto-healing decides on evidence, through the real auto-heal workflow: a
// recurrence whose remembered evidence is confirmed is fixed without the
// model; a look-alike (same service, same alert text) whose evidence
// contradicts the remembered cause is not, and the model is shown the
// candidate and what differs; a runbook imported from YAML heals its first
// incident without the model. The model is the Ollama test server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { terminalStatuses } from '../src/engine/execution-store.ts';
import { installAutoHeal } from '../src/healing/auto-heal.ts';
import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { Incident } from '../src/incidents/incident-store.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

let s: TestServices;
let ollama: OllamaTestServer;
let dir: string;
const stateFile = () => join(dir, 'upstream-state');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-heal-evidence-'));
  ollama = await OllamaTestServer.start();
  s = await makeTestServices('pglite', {
    OLLAMA_URL: ollama.url,
    LLM_RETRIES: '0',
    MEMORY_EMBEDDER: 'lexical',
    WARDEN_EXEC_BWRAP: 'off',
    WARDEN_HEAL_EVIDENCE_ACTIONS: 'shop.upstream',
    WARDEN_HEAL_VERIFY_TIMEOUT_MS: '2000',
    WARDEN_HEAL_VERIFY_INTERVAL_MS: '100',
  });
  // Fixes that succeed and verify at once; a read action whose output the test controls.
  await s.exec.catalogue.sync('file', [
    {
      name: 'shop.restart-app',
      description: 'restart the shop application upstream',
      risk: 'change',
      argv: ['true'],
      verify: { argv: ['true'] },
      params: {},
    },
    {
      name: 'shop.raise-connections',
      description: 'raise the proxy worker connections and reload it',
      risk: 'change',
      argv: ['true'],
      verify: { argv: ['true'] },
      params: {},
    },
    {
      name: 'shop.clear-quota',
      description: 'clear the tenant upload quota cache',
      risk: 'change',
      argv: ['true'],
      verify: { argv: ['true'] },
      params: {},
    },
    {
      name: 'shop.flush-sessions',
      description: 'flush the session store',
      risk: 'change',
      argv: ['true'],
      verify: { argv: ['true'] },
      params: {},
    },
    {
      name: 'shop.upstream',
      description: 'state of the shop upstream as the supervisor sees it',
      risk: 'read',
      argv: ['cat', stateFile()],
      params: {},
    },
  ]);
  await installAutoHeal(s.engine);
  await s.engine.startWorker(1);
});
afterAll(async () => {
  await s?.dispose();
  await ollama?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const alert = (logs: string[]): NormalizedAlert => ({
  source: 'alertmanager',
  fingerprint: `evidence-${n++}`,
  service: 'shop',
  severity: 'critical',
  status: 'firing',
  summary: 'shop returns 502 Bad Gateway',
  labels: { service: 'shop' },
  annotations: { logs: logs.join('\n') },
  startsAt: new Date(),
  endsAt: null,
  raw: {},
});
const upstreamRefused = (client: string, pid: number) =>
  `2026/12/01 10:0${pid % 10}:01 [error] ${pid}#${pid}: *${pid * 3} connect() failed (111: Connection refused) while connecting to upstream, client: ${client}, server: shop.example.com`;

/** Waits until the incident has one of the statuses and no execution is running. */
async function settle(id: number, statuses: string[]): Promise<Incident> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const i = await s.incidents.get(id);
    const running = (await s.engine.executions.list({})).filter(
      (e) => !terminalStatuses.includes(e.status),
    );
    if (statuses.includes(i.status) && running.length === 0) return i;
    if (Date.now() > deadline) {
      const { events } = await s.incidents.show(id);
      throw new Error(
        `incident ${id} is ${i.status}:\n${events.map((e) => `${e.type}: ${e.message}`).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function open(logs: string[]): Promise<number> {
  const [r] = await s.incidents.ingest([alert(logs)]);
  return r!.incidentId!;
}

const ran = async (id: number) =>
  (
    await s.db.query<{ action: string }>(
      `SELECT record->'input'->>'action' AS action FROM exec_audit
        WHERE record->'caller'->>'kind' = 'healing' AND record->'caller'->>'id' = $1
        ORDER BY seq`,
      [String(id)],
    )
  ).rows.map((r) => r.action);
const chats = () => ollama.requestsTo('/api/chat');

describe('auto-healing decides on evidence', () => {
  let memoryId: string;

  beforeAll(async () => {
    // An operator resolved the first occurrence by hand, citing the log line and a probe.
    writeFileSync(stateFile(), 'upstream app: down since 10:00\n');
    const first = await open([upstreamRefused('10.0.0.4', 311)]);
    await settle(first, ['escalated', 'resolved']);
    const taught = await s.healing.resolveByHand(first, {
      action: 'shop.restart-app',
      parameters: {},
      rootCause: 'the app upstream died',
      evidence: [upstreamRefused('10.0.0.4', 311)],
      probes: [{ action: 'shop.upstream', parameters: {}, expect: 'upstream app: down' }],
      by: 'ops',
    });
    memoryId = taught.memory.id;
    expect(taught.memory.evidence).toEqual([
      expect.stringContaining(
        'connect failed <num> connection refused while connecting to upstream',
      ),
    ]);
    await ollama.reset();
  });

  it('fixes a recurrence whose evidence is confirmed without asking the model', async () => {
    writeFileSync(stateFile(), 'upstream app: down since 11:42\n');
    const id = await open([
      '{"time":"2026-12-02T11:42:00Z","msg":"upstream response time 0.000"}',
      upstreamRefused('10.9.8.7', 4242),
    ]);
    const done = await settle(id, ['resolved', 'escalated']);
    expect(done.status).toBe('resolved');
    expect(await ran(id)).toEqual(['shop.upstream', 'shop.restart-app']);
    expect(chats()).toEqual([]);
    const { events } = await s.incidents.show(id);
    const matches = events.find((e) => e.type === 'memory.matches')!.evidence as {
      matches: Array<{ id: string; decision?: string; evidence?: { status: string } }>;
    };
    expect(matches.matches.find((m) => m.id === memoryId)).toMatchObject({
      decision: 'run',
      evidence: { status: 'confirmed' },
    });
  });

  it('does not run the remembered fix on a look-alike, and shows the model the candidate and the difference', async () => {
    // Same alert text and the same refused connections, but the upstream is
    // up: the proxy ran out of connections.
    writeFileSync(stateFile(), 'upstream app: up, 12 workers\n');
    ollama.script(
      {
        content: JSON.stringify({
          summary: 'nginx ran out of worker connections',
          rootCause: 'worker_connections exhausted under load',
          confidence: 0.8,
          action: { name: 'shop.raise-connections', parameters: {} },
          risk: 'change',
          evidence: ['1024 worker_connections are not enough'],
        }),
      },
      { content: JSON.stringify({ verdict: 'DISAGREED', reasons: ['wants a person'] }) },
    );
    const id = await open([
      upstreamRefused('10.1.1.1', 512),
      '2026/12/01 12:00:01 [alert] 512#512: 1024 worker_connections are not enough',
      '2026/12/01 12:00:02 [alert] 512#512: 1024 worker_connections are not enough',
    ]);
    await settle(id, ['awaiting_approval', 'escalated', 'resolved']);
    expect(await ran(id)).not.toContain('shop.restart-app');
    const [diagnosis] = chats();
    const prompt = JSON.stringify(diagnosis!.body.messages);
    expect(prompt).toContain('similar past incident; evidence differs');
    expect(prompt).toContain(`past incident ${memoryId}`);
    expect(prompt).toContain('shop.restart-app');
    expect(prompt).toContain('does not show \\"upstream app: down\\"');
  });

  it('heals the first incident of a runbook imported from YAML without the model', async () => {
    await ollama.reset();
    const [imported] = await s.healing.importRunbooks(`
runbooks:
  - title: shop returns 502 when a tenant's upload quota is exhausted
    service: shop
    symptoms: shop returns 502 Bad Gateway; uploads fail
    rootCause: the quota cache holds a stale count and the app answers 502
    evidence:
      - "quota check failed for tenant t-1029: used 5368709120 of 5368709120 bytes"
    fix:
      action: shop.clear-quota
`);
    expect(imported!.evidence).toEqual([
      'quota check failed for tenant <id> used <num> of <num> bytes',
    ]);
    const id = await open([
      'Dec  2 09:15:07 shop-2 shop[881]: quota check failed for tenant t-77: used 1073741824 of 1073741824 bytes',
    ]);
    const done = await settle(id, ['resolved', 'escalated']);
    expect(done.status).toBe('resolved');
    expect(await ran(id)).toEqual(['shop.upstream', 'shop.clear-quota']);
    expect(chats()).toEqual([]);
  });

  it('runs a known fix with partial evidence only when the validator agrees, without the orchestrator', async () => {
    await ollama.reset();
    await s.healing.importRunbooks(`
runbooks:
  - title: shop returns 502 because the session store is full
    service: shop
    symptoms: shop returns 502 Bad Gateway; logins fail
    rootCause: the session store filled up and went read-only
    evidence:
      - "session store full: 100000 of 100000 keys used"
      - "session write refused: store is read-only"
    fix:
      action: shop.flush-sessions
`);
    ollama.script({
      content: JSON.stringify({ verdict: 'AGREED', reasons: ['the store is full'] }),
    });
    // Only one of the two lines is in the new logs: partial evidence.
    const id = await open([
      'Dec  2 10:00:00 shop-1 shop[9]: session store full: 2000 of 2000 keys used',
    ]);
    const done = await settle(id, ['resolved', 'escalated']);
    expect(done.status).toBe('resolved');
    expect(await ran(id)).toContain('shop.flush-sessions');
    expect(chats().map((q) => q.body.model)).toEqual([s.llm.modelFor('validator')]);
    expect((await s.incidents.show(id)).events.map((e) => e.type)).toContain('consensus');
  });

  it('refuses a runbook whose fix is not in the catalogue and stores none of the file', async () => {
    const before = (await s.memory.list()).length;
    await expect(
      s.healing.importRunbooks(`
runbooks:
  - title: fine
    service: shop
    fix: { action: shop.clear-quota }
  - title: bad
    service: shop
    fix: { action: rm.everything }
`),
    ).rejects.toThrow(/runbooks\.1 \(bad\): the fix is not a valid catalogue action/);
    expect((await s.memory.list()).length).toBe(before);
  });
});
