// `warden mcp ops` over stdio as a real child process: stdout carries
// nothing but MCP (every line is a JSON-RPC message), diagnose answers with
// its whole report, and the process exits when its input ends.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const warden = fileURLToPath(new URL('../bin/warden.js', import.meta.url));

describe('warden mcp ops over stdio', () => {
  let db: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'warden-stdio-'));
  beforeAll(async () => {
    db = await createTestDatabase();
    writeFileSync(join(dir, 'backup-2024.tar'), 'x');
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes only JSON-RPC to stdout and answers diagnose', async () => {
    const messages = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'stdio-test', version: '1' },
        },
      },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'diagnose', arguments: {} } },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'execute_command', arguments: { command: 'df -h $(id)' } },
      },
    ];
    const child = spawn(process.execPath, [warden, 'mcp', 'ops'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATABASE_URL: db.url,
        WARDEN_DATA_DIR: join(dir, 'data'),
        WARDEN_EXEC_ROOT: join(dir, 'sandbox'),
        WARDEN_EXEC_ALLOWED_UNITS: 'ssh.service',
        WARDEN_OPS_BACKUP_DIR: dir,
        DOCKER_SOCKET: join(dir, 'absent.sock'),
        LOG_LEVEL: 'debug',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const answered = (id: number) => stdout.split('\n').some((l) => l.includes(`"id":${id}`));
    child.stdin.write(`${JSON.stringify(messages[0])}\n`);
    child.stdin.write(`${JSON.stringify(messages[1])}\n`);
    child.stdin.write(`${JSON.stringify(messages[2])}\n`);
    child.stdin.write(`${JSON.stringify(messages[3])}\n`);
    for (let i = 0; i < 300 && !(answered(2) && answered(3)) && child.exitCode === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);

    const lines = stdout.split('\n').filter(Boolean);
    const parsed = lines.map(
      (l) =>
        JSON.parse(l) as {
          jsonrpc: string;
          id?: number;
          result?: { content: { text: string }[]; isError?: boolean };
        },
    );
    expect(parsed.every((m) => m.jsonrpc === '2.0')).toBe(true);
    // Debug logging was on, and none of it reached stdout.
    expect(stderr).toMatch(/"level"/);

    const diagnose = JSON.parse(parsed.find((m) => m.id === 2)!.result!.content[0]!.text) as Record<
      string,
      unknown
    >;
    expect(Object.keys(diagnose)).toEqual(
      expect.arrayContaining([
        'cpus',
        'loadAverage',
        'memory',
        'disk',
        'services',
        'failedUnits',
        'containers',
        'database',
        'lastBackup',
      ]),
    );
    expect(diagnose.database).toEqual({ reachable: true });
    expect(diagnose.containers).toMatchObject({ error: expect.stringContaining('absent.sock') });
    expect(diagnose.lastBackup).toMatchObject({ configured: true, found: true });
    expect(Object.keys(diagnose.services as object)).toEqual(['ssh.service']);

    const refused = parsed.find((m) => m.id === 3)!.result!;
    expect(refused.isError).toBe(true);
    expect(JSON.parse(refused.content[0]!.text)).toMatchObject({
      rule: 'syntax.command_substitution',
    });
  });
});
