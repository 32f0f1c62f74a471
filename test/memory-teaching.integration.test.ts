// Operators teach incident memory without a model, through the API and the
// CLI: resolve an incident by hand with its evidence, import and export
// runbooks, edit or disable a remembered fix; the search says what the gate
// would do with each match.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerIncidentCommands } from '../src/cli/incident-commands.ts';
import { registerMemoryCommands } from '../src/cli/memory-commands.ts';
import type { NormalizedAlert } from '../src/incidents/alert.ts';
import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { runJson } from './helpers/in-process-cli.ts';

let n = 0;
const alert = (summary: string, logs: string): NormalizedAlert => ({
  source: 'alertmanager',
  fingerprint: `teach-${n++}`,
  service: 'nginx',
  severity: 'critical',
  status: 'firing',
  summary,
  labels: { service: 'nginx' },
  annotations: { logs },
  startsAt: new Date(),
  endsAt: null,
  raw: {},
});
const refused =
  '2026/12/01 10:00:01 [error] 311#311: *7 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.4';
const exhausted = '2026/12/01 10:00:01 [alert] 312#312: 1024 worker_connections are not enough';

describe('teaching through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp('pglite', {
      MEMORY_EMBEDDER: 'lexical',
      WARDEN_HEAL_ENABLED: 'false',
      WARDEN_EXEC_ALLOWED_UNITS: 'nginx.service,app.service',
    });
  });
  afterAll(() => t?.close());

  it('resolves an incident by hand and remembers its fix with the evidence as templates', async () => {
    const [opened] = await t.services.incidents.ingest([
      alert('nginx returns 502 Bad Gateway', refused),
    ]);
    const id = opened!.incidentId!;
    const operator = await t.keyFor('operator');
    const viewer = await t.keyFor('viewer');
    const body = {
      action: 'unit.restart',
      parameters: { unit: 'app.service' },
      rootCause: 'the app upstream died',
      evidence: [refused],
    };
    const denied = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/resolve`,
      headers: viewer,
      payload: body,
    });
    expect(denied.statusCode).toBe(403);
    const bad = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/resolve`,
      headers: operator,
      payload: { ...body, parameters: { unit: 'sshd.service' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/not a valid catalogue action.*unit/);
    expect((await t.services.memory.list()).length).toBe(0);

    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/resolve`,
      headers: operator,
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().incident.status).toBe('resolved');
    expect(res.json().memory).toMatchObject({
      fix: { action: 'unit.restart', parameters: { unit: 'app.service' } },
      rootCause: 'the app upstream died',
      verified: true,
      evidence: [
        expect.stringContaining(
          'connect failed <num> connection refused while connecting to upstream',
        ),
      ],
    });
  });

  it('searches with logs and says what the gate would do: run on confirmed evidence, diagnose otherwise', async () => {
    const viewer = await t.keyFor('viewer');
    const search = (logs: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/memory/search',
        headers: viewer,
        payload: { text: 'nginx returns 502 Bad Gateway', logs, service: 'nginx' },
      });
    const same = (await search(refused.replace('10.0.0.4', '10.7.7.7'))).json();
    expect(same.matches[0].gate).toMatchObject({
      decision: 'run',
      risk: 'change',
      evidence: { status: 'confirmed' },
    });
    const other = (await search(exhausted)).json();
    expect(other.matches[0].gate).toMatchObject({
      decision: 'diagnose',
      evidence: { status: 'unconfirmed' },
    });
    expect(other.matches[0].gate.reason).toMatch(/its evidence was not seen/);
    const probing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/memory/search',
      headers: viewer,
      payload: { text: 'nginx returns 502 Bad Gateway', runProbes: true },
    });
    expect(probing.statusCode).toBe(403);
    expect(probing.json().error.message).toMatch(/operator/);
  });

  it('edits and disables a remembered fix; a disabled fix is never nominated', async () => {
    const operator = await t.keyFor('operator');
    const [m] = await t.services.memory.list({ service: 'nginx' });
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/memory/${m!.id}`,
        headers: operator,
        payload,
      });
    expect((await patch({})).statusCode).toBe(400);
    expect((await patch({ fix: { action: 'no.such.action' } })).statusCode).toBe(400);
    const edited = await patch({ evidenceLines: [refused, refused.replace('311', '999')] });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().evidence).toHaveLength(1);
    const disabled = await patch({ disabled: true });
    expect(disabled.json().disabled).toBe(true);
    const [match] = await t.services.healing.explain(`nginx returns 502 Bad Gateway\n${refused}`, {
      service: 'nginx',
    });
    expect(match!.gate).toMatchObject({
      decision: 'not_nominated',
      reason: 'its fix was disabled by an operator',
    });
    await patch({ disabled: false });
  });

  it('imports runbooks from YAML and exports them again', async () => {
    const operator = await t.keyFor('operator');
    const yaml = `runbooks:
  - title: nginx 502 because worker connections ran out
    service: nginx
    symptoms: nginx returns 502 Bad Gateway under load
    rootCause: worker_connections exhausted
    evidence: ["${exhausted}"]
    fix: { action: unit.restart, parameters: { unit: nginx.service } }
`;
    const imported = await t.app.inject({
      method: 'POST',
      url: '/api/v1/memory/import',
      headers: operator,
      payload: { yaml },
    });
    expect(imported.statusCode).toBe(200);
    expect(imported.json().imported[0].evidence).toEqual(['worker_connections are not enough']);
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/memory/import',
      headers: operator,
      payload: { yaml: 'runbooks:\n  - title: x\n    service: nginx\n' },
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.message).toMatch(/runbooks\.0\.fix: Required/);
    const exported = await t.app.inject({
      method: 'GET',
      url: '/api/v1/memory/export',
      headers: await t.keyFor('viewer'),
    });
    expect(exported.statusCode).toBe(200);
    expect(exported.body).toContain('title: nginx 502 because worker connections ran out');
    expect(exported.body).toContain('- worker_connections are not enough');
  });
});

describe('teaching from the command line', () => {
  let db: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'warden-cli-teach-'));
  const saved = { ...process.env };
  beforeAll(async () => {
    db = await createTestDatabase();
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      WARDEN_DATA_DIR: dataDir,
      MEMORY_EMBEDDER: 'lexical',
      WARDEN_HEAL_ENABLED: 'false',
      WARDEN_EXEC_ALLOWED_UNITS: 'nginx.service,app.service',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    runJson([registerIncidentCommands, registerMemoryCommands], ...args);

  it('resolves by hand, imports a runbook, disables a fix and searches', async () => {
    const file = join(dataDir, 'runbooks.yaml');
    writeFileSync(
      file,
      `runbooks:\n  - title: nginx 502 because worker connections ran out\n    service: nginx\n    evidence: ["${exhausted}"]\n    fix: { action: unit.restart, parameters: { unit: nginx.service } }\n`,
    );
    const { imported } = (await run('memory', 'import', file)) as {
      imported: Array<{ id: string }>;
    };
    expect(imported).toHaveLength(1);
    const { withServices } = await import('../src/cli/context.ts');
    const [opened] = await withServices((s) =>
      s.incidents.ingest([alert('nginx returns 502 Bad Gateway', refused)]),
    );
    const resolved = (await run(
      'incidents',
      'resolve',
      String(opened!.incidentId),
      '--fix',
      'unit.restart',
      '--param',
      'unit=app.service',
      '--root-cause',
      'the app upstream died',
      '--evidence',
      refused,
    )) as { incident: { status: string }; memory: { id: string; evidence: string[] } };
    expect(resolved.incident.status).toBe('resolved');
    expect(resolved.memory.evidence).toHaveLength(1);
    const edited = (await run('memory', 'edit', imported[0]!.id, '--disable')) as {
      disabled: boolean;
    };
    expect(edited.disabled).toBe(true);
    const found = (await run(
      'memory',
      'search',
      '--service',
      'nginx',
      'nginx returns 502 Bad Gateway',
      refused,
    )) as { matches: Array<{ incident: { id: string }; gate: { decision: string } }> };
    const byId = new Map(found.matches.map((m) => [m.incident.id, m.gate.decision]));
    expect(byId.get(resolved.memory.id)).toBe('run');
    expect(byId.get(imported[0]!.id)).toBe('not_nominated');
    await expect(
      run(
        'incidents',
        'resolve',
        '1',
        '--fix',
        'unit.restart',
        '--param',
        'unit',
        '--root-cause',
        'x',
      ),
    ).rejects.toThrow(/--param must be key=value; got "unit"/);
  });
});
