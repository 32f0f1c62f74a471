// The incident, alert and maintenance commands, run in-process against a
// fresh PostgreSQL database; their --json output is what scripts rely on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerIncidentCommands } from '../src/cli/incident-commands.ts';
import { registerMaintenanceCommands } from '../src/cli/maintenance-commands.ts';
import { withServices } from '../src/cli/context.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { runJson } from './helpers/in-process-cli.ts';

let db: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
const saved = { ...process.env };

beforeAll(async () => {
  db = await createTestDatabase();
  process.env.DATABASE_URL = db.url;
  process.env.LOG_LEVEL = 'silent';
  process.env.WARDEN_DATA_DIR = dataDir;
});
afterAll(async () => {
  process.env = saved;
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const run = (...args: string[]) =>
  runJson([registerIncidentCommands, registerMaintenanceCommands], ...args);

describe('incident CLI', () => {
  it('adds, lists and removes maintenance windows', async () => {
    const added = (await run(
      'maintenance',
      'add',
      '--reason',
      'db upgrade',
      '--service',
      'db-1',
      '--match',
      'team=blue',
      '--duration',
      '2h',
    )) as { id: number; service: string; matchers: unknown; startsAt: string; endsAt: string };
    expect(added).toMatchObject({ service: 'db-1', matchers: { team: 'blue' } });
    expect(Date.parse(added.endsAt) - Date.parse(added.startsAt)).toBe(2 * 3_600_000);
    expect(await run('maintenance', 'list')).toEqual([expect.objectContaining({ id: added.id })]);
    await run('maintenance', 'remove', String(added.id));
    expect(await run('maintenance', 'list')).toEqual([]);
  });

  it('creates an endpoint and shows incidents and alerts that came in', async () => {
    const created = (await run(
      'alerts',
      'endpoints',
      'create',
      '--name',
      'kuma',
      '--source',
      'uptime-kuma',
    )) as { token: string; urls: { withTokenInPath: string } };
    expect(created.urls.withTokenInPath).toMatch(/\/hooks\/alerts\/uptime-kuma\/wdn_alert_/);
    const listed = JSON.stringify(await run('alerts', 'endpoints', 'list'));
    expect(listed).toContain('"name":"kuma"');
    expect(listed).not.toContain(created.token);

    const [result] = await withServices((s) =>
      s.incidents.ingest([
        {
          source: 'uptime-kuma',
          fingerprint: 'f1',
          service: 'shop-web',
          severity: 'critical',
          status: 'firing',
          summary: 'shop-web is down',
          labels: {},
          annotations: {},
          startsAt: new Date(),
          endsAt: null,
          raw: {},
        },
      ]),
    );
    expect(await run('incidents', 'list', '--status', 'open')).toEqual([
      expect.objectContaining({ id: result!.incidentId, service: 'shop-web' }),
    ]);
    const shown = (await run('incidents', 'show', String(result!.incidentId))) as {
      events: { type: string }[];
    };
    expect(shown.events.map((e) => e.type)).toEqual(['opened']);
    expect(await run('alerts', 'list', '--service', 'shop-web')).toEqual([
      expect.objectContaining({ outcome: 'opened', incidentId: result!.incidentId }),
    ]);
  });
});
