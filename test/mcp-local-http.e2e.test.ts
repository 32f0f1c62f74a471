// The local MCP servers over Streamable HTTP, as real processes: `warden mcp
// memory --http` and `warden mcp files --http` with the SDK's own client, a
// bearer token required, and the tools working through it.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freePort, wardenBin } from './helpers/cli.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';

const token = 'local-mcp-token-0123456789abcdef';
const children: ChildProcess[] = [];
let db: TestDatabase;
let dir: string;

/** Starts `warden mcp <name> --http` and waits until it says where it listens. */
async function serve(name: string, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [wardenBin, 'mcp', name, '--http', '--port', String(port)],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        LOG_LEVEL: 'warn',
        WARDEN_MCP_TOKEN: token,
        WARDEN_MCP_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no server after 30 s: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('MCP server on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
  });
  return `http://127.0.0.1:${port}/mcp`;
}

async function connect(url: string, bearer = token) {
  const client = new Client({ name: 'local-http-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    }),
  );
  return client;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-local-http-')));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await db?.drop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('local MCP servers over Streamable HTTP', () => {
  it('serves the knowledge graph to a client with the token, and nobody else', async () => {
    const url = await serve('memory', { DATABASE_URL: db.url });
    await expect(connect(url, 'wrong-token-0123456789abcdefgh')).rejects.toThrow();
    const client = await connect(url);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('create_entities');
      await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'db-1', entityType: 'host', observations: ['PG 16'] }] },
      });
      const found = await client.callTool({ name: 'search_nodes', arguments: { query: 'pg 16' } });
      expect(JSON.stringify(found.content)).toContain('db-1');
    } finally {
      await client.close();
    }
  });

  it('serves files from the allowed directory only', async () => {
    const root = join(dir, 'files');
    mkdirSync(root);
    writeFileSync(join(root, 'motd'), 'hello from the root');
    const url = await serve('files', { WARDEN_MCP_FILES_ROOTS: root });
    const client = await connect(url);
    try {
      const read = await client.callTool({ name: 'read_text_file', arguments: { path: 'motd' } });
      expect(JSON.stringify(read.content)).toContain('hello from the root');
      const out = await client.callTool({
        name: 'read_text_file',
        arguments: { path: '/etc/passwd' },
      });
      expect(out.isError).toBe(true);
      expect(JSON.stringify(out.content)).toContain('outside the allowed directories');
    } finally {
      await client.close();
    }
  });
});
