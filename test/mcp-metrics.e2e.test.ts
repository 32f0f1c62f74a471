// An MCP server in --http mode serves its process's metrics at /metrics,
// behind the same bearer token as /mcp, as a real `warden mcp memory --http`.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort, wardenBin } from './helpers/cli.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const token = 'metrics-mcp-token-0123456789abcdef';
let child: ChildProcess | undefined;
let db: TestDatabase;
let dir: string;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'warden-mcp-metrics-'));
  const port = await freePort();
  const c = spawn(
    process.execPath,
    [wardenBin, 'mcp', 'memory', '--http', '--port', String(port)],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        WARDEN_MCP_TOKEN: token,
        WARDEN_MCP_HOST: '127.0.0.1',
        WARDEN_DATA_DIR: dir,
        DATABASE_URL: db.url,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child = c;
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no server after 30 s: ${err}`)), 30_000);
    c.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('MCP server on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.on('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  child?.kill('SIGTERM');
  await db?.drop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /metrics of an MCP server over HTTP', () => {
  it('needs the token, and reports the process as an mcp role', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toMatch(/^warden_build_info\{version="[^"]+",nodejs="[^"]+",role="mcp"\} 1$/m);
    expect(body).toMatch(/^process_resident_memory_bytes \d+$/m);
    if (spawnSync('promtool', ['--version']).status === 0) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect({ code: check.status, out: `${check.stdout}${check.stderr}` }).toEqual({
        code: 0,
        out: '',
      });
    }
  });
});
