// Every command family beside a running embedded Warden (whose lock keeps
// the database closed to every other process) and without it: the commands
// go through its API while it runs, open the database once it has stopped,
// and print the same thing either way.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden, RunResult } from './helpers/cli.ts';
import { freePort, runWarden, startWarden, wardenBin } from './helpers/cli.ts';

const runbooks = `runbooks:
  - title: web container wedged after a deploy
    service: web
    symptoms: web answers 503 after the deploy
    rootCause: the container kept the old config
    evidence:
      - 'config reload failed: file changed while reading'
    fix:
      action: docker.restart
      parameters: { container: web }
`;

/** The read commands whose output is compared between the two paths. */
const reads: string[][] = [
  ['memory', 'status'],
  ['memory', 'status', '--json'],
  ['memory', 'list'],
  ['memory', 'list', '--json'],
  ['memory', 'search', 'web', 'answers', '503', '--service', 'web', '--json'],
  ['memory', 'search', 'web', 'answers', '503', '--service', 'web'],
  ['memory', 'export'],
  ['monitors', 'list'],
  ['monitors', 'list', '--json'],
  ['maintenance', 'list'],
  ['maintenance', 'list', '--json'],
  ['alerts', 'list'],
  ['alerts', 'list', '--json'],
  ['alerts', 'endpoints', 'list'],
  ['alerts', 'endpoints', 'list', '--json'],
  ['users', 'list'],
  ['users', 'list', '--json'],
  ['apikeys', 'list'],
  ['apikeys', 'list', '--json'],
  ['actions', 'list'],
  ['actions', 'list', '--json'],
  ['backup', 'list', '--json'],
];

describe('the CLI beside a running Warden and without one', () => {
  let dir: string;
  let warden: RunningWarden;
  let env: Record<string, string>;
  const run = (args: string[], input?: string): Promise<RunResult> =>
    runWarden(args, { cwd: dir, env, timeoutMs: 120_000, ...(input ? { input } : {}) });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await run(args, input);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const remote = new Map<string, string>();
  let memoryId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-cli-remote-'));
    const port = await freePort();
    // The CLI reads the same configuration as the server (its port names the
    // alert endpoints' URLs in both paths).
    env = {
      WARDEN_DATA_DIR: join(dir, 'data'),
      WARDEN_PORT: String(port),
      OLLAMA_URL: 'http://127.0.0.1:9',
      LLM_RETRIES: '0',
      WARDEN_HEAL_ENABLED: 'false',
    };
    writeFileSync(join(dir, 'runbooks.yaml'), runbooks);
    // A cold start creates the embedded database: allow for a busy machine.
    warden = await startWarden({ cwd: dir, env, waitMs: 120_000 });
  }, 150_000);
  afterAll(async () => {
    await warden?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('teaches, corrects and reads incident memory through the API', async () => {
    const imported = JSON.parse(await ok(['memory', 'import', 'runbooks.yaml', '--json'])) as {
      imported: { id: string }[];
    };
    memoryId = imported.imported[0]!.id;
    const edited = await ok(['memory', 'edit', memoryId, '--root-cause', 'stale config']);
    expect(edited).toContain('docker.restart');
    expect(await ok(['memory', 'show', memoryId])).toContain('root cause stale config');
    const reindexed = await ok(['memory', 'reindex']);
    expect(reindexed).toMatch(/^reindexed 1 incident\(s\) with lexical/);
  }, 120_000);

  it('adds monitors and maintenance windows, recorded as the CLI user', async () => {
    // Checked once when added; an hour until the next check.
    const m = JSON.parse(
      await ok([
        'monitors',
        'add',
        '--name',
        'db',
        '--tcp',
        '127.0.0.1:9',
        '--interval',
        '3600',
        '--json',
      ]),
    ) as { id: number; name: string };
    expect(m.name).toBe('db');
    const checked = await ok(['monitors', 'check', String(m.id)]);
    // Down, or pending when the check on adding has not finished yet (a
    // first failure waits for its retry): never up.
    expect(checked).toMatch(/^db: (down|pending)\b/);
    const w = JSON.parse(
      await ok([
        'maintenance',
        'add',
        '--reason',
        'upgrade',
        '--service',
        'db',
        '--duration',
        '2h',
        '--json',
      ]),
    ) as { createdBy: string; service: string };
    expect(w).toMatchObject({ service: 'db', createdBy: `cli:${userInfo().username}` });
  }, 120_000);

  it('creates alert endpoints that take alerts, and lists the alerts', async () => {
    const created = JSON.parse(
      await ok([
        'alerts',
        'endpoints',
        'create',
        '--name',
        'am',
        '--source',
        'alertmanager',
        '--json',
      ]),
    ) as { token: string; urls: { withHeader: string } };
    expect(created.urls.withHeader).toBe(
      `http://localhost:${env.WARDEN_PORT}/api/v1/alerts/alertmanager`,
    );
    const res = await fetch(`${warden.url}/api/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'DiskFull', service: 'db', severity: 'warning' },
            annotations: { summary: 'disk almost full' },
            startsAt: new Date().toISOString(),
            fingerprint: 'abc123',
          },
        ],
      }),
    });
    expect(res.status, await res.text()).toBe(200);
    expect(await ok(['alerts', 'list'])).toContain('disk almost full');
  }, 120_000);

  it('manages users and API keys as admin', async () => {
    const user = JSON.parse(
      await ok(
        [
          'users',
          'create',
          '--username',
          'ops',
          '--role',
          'operator',
          '--password-stdin',
          '--json',
        ],
        'a long enough password\n',
      ),
    ) as { user: { username: string; role: string } };
    expect(user.user).toMatchObject({ username: 'ops', role: 'operator' });
    const key = JSON.parse(
      await ok(['apikeys', 'create', '--name', 'grafana', '--role', 'viewer', '--json']),
    ) as { apiKey: { name: string }; secret: string };
    expect(key.apiKey.name).toBe('grafana');
    expect(key.secret).toMatch(/^wdn_/);
  }, 120_000);

  it('runs a catalogue action there, audited as the CLI', async () => {
    const out = await ok(['actions', 'run', 'disk.usage']);
    expect(out).toContain('Filesystem');
    const refused = await run(['actions', 'run', 'no.such.action']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain('refused');
    const audit = readFileSync(join(dir, 'data', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const last = JSON.parse(audit.at(-1)!) as { caller: { kind: string }; decision: string };
    expect(last).toMatchObject({ caller: { kind: 'cli' }, decision: 'refused' });
  }, 120_000);

  it('has the running Warden take a backup, and says plainly that a restore needs it stopped', async () => {
    const made = JSON.parse(await ok(['backup', 'create', '--json'])) as {
      backup: { file: string; kind: string };
    };
    expect(made.backup.kind).toBe('pglite');
    expect(readdirSync(join(dir, 'data', 'backups'))).toContain(made.backup.file);
    const restore = await run(['backup', 'restore', made.backup.file, '--yes']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain(
      `cannot run while Warden runs on this data directory (pid ${warden.child.pid}`,
    );
    expect(restore.stderr).toContain('stop it first');
    const migrate = await ok(['db', 'migrate']);
    expect(migrate).toContain('database is up to date (the running Warden');
  }, 180_000);

  it('doctor reports incident memory and backups through it', async () => {
    const r = await run(['doctor', '--json']);
    const findings = JSON.parse(r.stdout) as { check: string; status: string; detail: string }[];
    const byCheck = Object.fromEntries(findings.map((f) => [f.check, f]));
    expect(byCheck.warden).toMatchObject({ status: 'ok' });
    expect(byCheck['incident memory']).toMatchObject({ status: 'ok' });
    expect(byCheck['incident memory']!.detail).toContain('1 incident(s)');
    expect(byCheck.backups).toMatchObject({ status: 'ok' });
  }, 120_000);

  it('answers every read the same way through the API as from the database', async () => {
    for (const args of reads) remote.set(args.join(' '), await ok(args));
    expect(await warden.stop()).toBe(0);
    expect(existsSync(join(dir, 'data', 'control.json'))).toBe(false);
    for (const args of reads) {
      const key = args.join(' ');
      const local = await ok(args);
      if (args.includes('--json'))
        expect(JSON.parse(local), key).toEqual(JSON.parse(remote.get(key)!));
      else expect(local, key).toBe(remote.get(key));
    }
  }, 600_000);

  it('changes things without a running Warden too', async () => {
    expect(await ok(['memory', 'forget', memoryId])).toBe(`forgot incident ${memoryId}\n`);
    expect(await ok(['monitors', 'remove', '1'])).toBe('removed monitor 1\n');
    expect(await ok(['users', 'disable', 'ops'])).toBe('disabled "ops"\n');
    expect(await ok(['alerts', 'endpoints', 'disable', '1'])).toBe('disabled "am"\n');
  }, 180_000);

  it('doctor reports all it can while another process holds the database', async () => {
    // `warden mcp memory --http` keeps the embedded database open while it runs.
    const holder = spawn(
      process.execPath,
      [wardenBin, 'mcp', 'memory', '--http', '--port', String(await freePort())],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'warn',
          WARDEN_MCP_TOKEN: 'local-mcp-token-0123456789abcdef',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      let err = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no server after 60 s: ${err}`)), 60_000);
        holder.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('MCP server on')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const r = await run(['doctor', '--json']);
      expect(r.code).toBe(1);
      const findings = JSON.parse(r.stdout) as { check: string; status: string; detail: string }[];
      const byCheck = Object.fromEntries(findings.map((f) => [f.check, f]));
      expect(byCheck.database).toMatchObject({ status: 'fail' });
      expect(byCheck.database!.detail).toContain(String(holder.pid));
      expect(byCheck['model server']).toMatchObject({ status: 'fail' });
      expect(byCheck.backups).toMatchObject({ status: 'ok' });
      expect(byCheck.notifications).toMatchObject({ status: 'warn' });
    } finally {
      holder.kill('SIGTERM');
    }
  }, 180_000);
});
