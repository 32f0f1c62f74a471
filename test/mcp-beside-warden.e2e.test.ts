// The local MCP servers beside a running embedded Warden, as Claude Desktop
// uses them: `warden mcp memory` spawned over stdio forwards to the main
// process's /mcp/memory instead of opening the database, so the data lock
// stays with `warden start` (which restarts beside it); started before
// Warden, it lets go of the database when idle and then forwards; the HTTP
// endpoints take an API key or the control token and nothing else; `warden
// agent` works through them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { freePort, runWarden, startWarden, wardenBin } from './helpers/cli.ts';
import { initializeRequest as initialize, mcpHeaders } from './helpers/mcp-http.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

describe('local MCP servers beside a running Warden', () => {
  let dir: string;
  let warden: RunningWarden;
  let ollama: OllamaTestServer;
  let env: Record<string, string>;
  const controlToken = () =>
    (JSON.parse(readFileSync(join(dir, 'data', 'control.json'), 'utf8')) as { token: string })
      .token;

  async function httpClient(name: string, bearer: string): Promise<Client> {
    const client = new Client({ name: 'http-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${warden.url}/mcp/${name}`), {
        requestInit: { headers: { authorization: `Bearer ${bearer}` } },
      }),
    );
    return client;
  }

  function stdioClient(name: string): {
    client: Client;
    stderr: () => string;
    connect(): Promise<void>;
  } {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [wardenBin, 'mcp', name],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
    return { client, stderr: () => err, connect: () => client.connect(transport) };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-mcp-beside-'));
    ollama = await OllamaTestServer.start();
    env = {
      WARDEN_DATA_DIR: join(dir, 'data'),
      WARDEN_PORT: String(await freePort()),
      OLLAMA_URL: ollama.url,
      LLM_RETRIES: '0',
      WARDEN_HEAL_ENABLED: 'false',
    };
    // A cold start creates the embedded database: allow for a busy machine.
    warden = await startWarden({ cwd: dir, env, waitMs: 120_000 });
  }, 150_000);
  afterAll(async () => {
    await warden?.stop();
    await ollama?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves `warden mcp memory` over stdio through the running Warden', async () => {
    const stdio = stdioClient('memory');
    await stdio.connect();
    try {
      const { tools } = await stdio.client.listTools();
      expect(tools.map((t) => t.name)).toContain('create_entities');
      const created = await stdio.client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'db-1', entityType: 'host', observations: ['PG 16'] }] },
      });
      expect(created.isError).toBeFalsy();
      expect(stdio.stderr()).toContain('forwarding to the running Warden');
      // The server has it: its own endpoint finds the entity.
      const direct = await httpClient('memory', controlToken());
      try {
        const found = await direct.callTool({
          name: 'search_nodes',
          arguments: { query: 'pg 16' },
        });
        expect(JSON.stringify(found.content)).toContain('db-1');
      } finally {
        await direct.close();
      }
      // The stdio process holds no lock: Warden restarts beside it.
      expect(await warden.stop()).toBe(0);
      warden = await startWarden({ cwd: dir, env, waitMs: 120_000 });
      // The stdio client goes on through the restarted Warden.
      const after = await stdio.client.callTool({ name: 'read_graph', arguments: {} });
      expect(JSON.stringify(after.content)).toContain('db-1');
      const again = await httpClient('memory', controlToken());
      try {
        const graph = await again.callTool({ name: 'read_graph', arguments: {} });
        expect(JSON.stringify(graph.content)).toContain('db-1');
      } finally {
        await again.close();
      }
    } finally {
      await stdio.client.close();
    }
  }, 300_000);

  it('keeps a thinking chain per stdio client', async () => {
    const stdio = stdioClient('thinking');
    await stdio.connect();
    try {
      const r = await stdio.client.callTool({
        name: 'sequentialthinking',
        arguments: {
          thought: 'check the disk',
          thoughtNumber: 1,
          totalThoughts: 2,
          nextThoughtNeeded: true,
        },
      });
      expect(r.isError).toBeFalsy();
      expect(JSON.stringify(r.content)).toContain('thoughtHistoryLength');
    } finally {
      await stdio.client.close();
    }
  }, 120_000);

  it('refuses the HTTP endpoint without a credential, with a viewer key, a cookie or a foreign Origin', async () => {
    const noAuth = await fetch(`${warden.url}/mcp/memory`, {
      method: 'POST',
      headers: mcpHeaders,
      body: JSON.stringify(initialize),
    });
    expect(noAuth.status).toBe(401);
    const wrong = await fetch(`${warden.url}/mcp/memory`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${'x'.repeat(43)}` },
      body: JSON.stringify(initialize),
    });
    expect(wrong.status).toBe(401);
    const cookie = await fetch(`${warden.url}/mcp/memory`, {
      method: 'POST',
      headers: { ...mcpHeaders, cookie: 'warden_session=abc' },
      body: JSON.stringify(initialize),
    });
    expect(cookie.status).toBe(401);

    const key = async (role: string) => {
      const r = await runWarden(
        ['apikeys', 'create', '--name', `mcp-${role}`, '--role', role, '--json'],
        {
          cwd: dir,
          env,
        },
      );
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { secret: string }).secret;
    };
    const viewer = await key('viewer');
    const asViewer = await fetch(`${warden.url}/mcp/memory`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${viewer}` },
      body: JSON.stringify(initialize),
    });
    expect(asViewer.status).toBe(403);

    const operator = await key('operator');
    const foreign = await fetch(`${warden.url}/mcp/memory`, {
      method: 'POST',
      headers: {
        ...mcpHeaders,
        authorization: `Bearer ${operator}`,
        origin: 'https://evil.example',
      },
      body: JSON.stringify(initialize),
    });
    expect(foreign.status).toBe(403);
    // No roots configured: no files server.
    const files = await fetch(`${warden.url}/mcp/files`, {
      method: 'POST',
      headers: { ...mcpHeaders, authorization: `Bearer ${operator}` },
      body: JSON.stringify(initialize),
    });
    expect(files.status).toBe(404);

    // An operator's key works, and its session is its own.
    const client = await httpClient('memory', operator);
    try {
      const graph = await client.callTool({ name: 'read_graph', arguments: {} });
      expect(JSON.stringify(graph.content)).toContain('db-1');
      const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
      const stolen = await fetch(`${warden.url}/mcp/memory`, {
        method: 'POST',
        headers: {
          ...mcpHeaders,
          authorization: `Bearer ${controlToken()}`,
          'mcp-session-id': sessionId,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(stolen.status).toBe(404);
    } finally {
      await client.close();
    }
  }, 180_000);

  it('says where the server is instead of failing on the lock with --http', async () => {
    const r = await runWarden(['mcp', 'memory', '--http'], {
      cwd: dir,
      env: { ...env, WARDEN_MCP_TOKEN: 'local-mcp-token-0123456789abcdef' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`already serves this MCP server at ${warden.url}/mcp/memory`);
  }, 120_000);

  it('runs `warden agent` with the running Warden’s servers', async () => {
    ollama.script(
      {
        toolCalls: [
          {
            name: 'memory_add_observations',
            arguments: { observations: [{ entityName: 'db-1', contents: ['backs up nightly'] }] },
          },
        ],
      },
      { content: 'Noted: db-1 backs up nightly.' },
    );
    const r = await runWarden(
      ['agent', 'Note', 'that', 'db-1', 'backs', 'up', 'nightly', '--json'],
      {
        cwd: dir,
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { answer: string }).answer).toBe(
      'Noted: db-1 backs up nightly.',
    );
    const client = await httpClient('memory', controlToken());
    try {
      const found = await client.callTool({ name: 'open_nodes', arguments: { names: ['db-1'] } });
      expect(JSON.stringify(found.content)).toContain('backs up nightly');
    } finally {
      await client.close();
    }
  }, 120_000);
});

describe('a stdio MCP server started before Warden', () => {
  let dir: string;
  let warden: RunningWarden | undefined;
  afterAll(async () => {
    await warden?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves from the database, lets go of it when idle, and then forwards to the Warden that started', async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-mcp-first-'));
    const env = {
      WARDEN_DATA_DIR: join(dir, 'data'),
      WARDEN_PORT: String(await freePort()),
      OLLAMA_URL: 'http://127.0.0.1:9',
      LLM_RETRIES: '0',
      WARDEN_HEAL_ENABLED: 'false',
    };
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [wardenBin, 'mcp', 'memory'],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stderr: 'pipe',
    });
    let err = '';
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
    await client.connect(transport);
    try {
      await client.callTool({
        name: 'create_entities',
        arguments: { entities: [{ name: 'web-1', entityType: 'host', observations: ['nginx'] }] },
      });
      expect(err).toContain('serving from the database (no Warden running)');
      // Idle, the stdio server lets go of the database: Warden starts beside it.
      const deadline = Date.now() + 60_000;
      while (!err.includes('the database is free again') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(err).toContain('the database is free again');
      warden = await startWarden({ cwd: dir, env, waitMs: 120_000 });
      // The same client session goes on, now through the running Warden.
      const found = await client.callTool({ name: 'search_nodes', arguments: { query: 'nginx' } });
      expect(JSON.stringify(found.content)).toContain('web-1');
      expect(err).toContain('forwarding to the running Warden');
    } finally {
      await client.close();
    }
  }, 300_000);
});
