// The ops MCP server over Streamable HTTP on loopback, with the SDK's own
// client: bearer token, Host and Origin checks, a server per session, the
// tool list with honest annotations, and tool calls that reach the exec layer.
import { request } from 'node:http';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.ts';
import type { McpHttpServer } from '../src/mcp/http-transport.ts';
import { serveMcpHttp } from '../src/mcp/http-transport.ts';
import { createOpsServer, legacyToolNames } from '../src/mcp/ops-server.ts';
import type { TestExec } from './helpers/exec.ts';
import { makeTestExec } from './helpers/exec.ts';

const token = 'test-token-0123456789abcdefghij';

function raw(url: string, headers: Record<string, string>): Promise<number> {
  const u = new URL(url);
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function connect(url: string) {
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

describe('ops MCP server over Streamable HTTP', () => {
  let exec: TestExec;
  let http: McpHttpServer;
  let servers = 0;
  beforeAll(async () => {
    exec = await makeTestExec();
    http = await serveMcpHttp({
      port: 0,
      token,
      allowedOrigins: ['https://ops.example.test'],
      logger: createLogger({ level: 'silent' }),
      createServer: () => {
        servers++;
        return createOpsServer({
          exec,
          postgresUrl: exec.dbUrl,
          allowedUnits: [],
          via: 'http',
          version: 'test',
        });
      },
    });
  });
  afterAll(async () => {
    await http?.close();
    await exec?.dispose();
  });

  it('refuses a missing or wrong token, a foreign Host and a foreign Origin', async () => {
    const host = new URL(http.url).host;
    expect(await raw(http.url, { host })).toBe(401);
    expect(
      await raw(http.url, { host, authorization: 'Bearer wrong-token-0123456789abcdefg' }),
    ).toBe(401);
    expect(await raw(http.url, { host: 'evil.example:80', authorization: `Bearer ${token}` })).toBe(
      403,
    );
    expect(
      await raw(http.url, {
        host,
        authorization: `Bearer ${token}`,
        origin: 'https://evil.example',
      }),
    ).toBe(403);
    expect(
      await raw(http.url, {
        host,
        authorization: `Bearer ${token}`,
        origin: 'https://ops.example.test',
      }),
    ).toBe(200);
  });

  it('lists the tools with honest annotations', async () => {
    const client = await connect(http.url);
    try {
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
      expect(Object.keys(byName).sort()).toEqual(
        [
          'container_logs',
          'diagnose',
          'execute_command',
          'list_actions',
          'list_containers',
          'query_postgres',
          'restart_container',
          'run_action',
          'system_resources',
          // The original stack's names for five of them.
          'check_docker_logs',
          'check_system_resources',
          'diagnose_vps',
          'list_docker_containers',
          'restart_docker_container',
        ].sort(),
      );
      for (const [old, now] of Object.entries(legacyToolNames))
        expect(byName[now], `${now} keeps ${old}'s annotations`).toEqual(byName[old]);
      for (const name of [
        'execute_command',
        'list_containers',
        'container_logs',
        'system_resources',
        'diagnose',
        'query_postgres',
        'list_actions',
      ])
        expect(byName[name]).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      for (const name of ['restart_container', 'restart_docker_container', 'run_action'])
        expect(byName[name]).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    } finally {
      await client.close();
    }
  });

  it('gives each session its own server and answers tool calls through the exec layer', async () => {
    const before = servers;
    const a = await connect(http.url);
    const b = await connect(http.url);
    try {
      expect(servers).toBe(before + 2);
      const refused = await a.callTool({
        name: 'execute_command',
        arguments: { command: 'ls; id' },
      });
      expect(refused.isError).toBe(true);
      expect(JSON.parse((refused.content as { text: string }[])[0]!.text)).toMatchObject({
        rule: 'syntax.operator',
      });
      const ran = await b.callTool({ name: 'execute_command', arguments: { command: 'uname -s' } });
      expect(JSON.parse((ran.content as { text: string }[])[0]!.text)).toMatchObject({
        exitCode: 0,
        stdout: 'Linux\n',
      });
      const sql = await b.callTool({
        name: 'query_postgres',
        arguments: { sql: 'SELECT 1; DROP TABLE exec_audit' },
      });
      expect(JSON.parse((sql.content as { text: string }[])[0]!.text)).toMatchObject({
        rule: 'sql.multiple_statements',
      });
      const records = [];
      for await (const r of exec.audit.records()) records.push(r);
      expect(records.map((r) => [r.operation, r.rule, r.caller.id])).toEqual([
        ['execute_command', 'syntax.operator', 'http:http-test'],
        ['execute_command', 'allow.uname', 'http:http-test'],
        ['query_postgres', 'sql.multiple_statements', 'http:http-test'],
      ]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

async function initialize(url: string): Promise<{ status: number; body: string; sid?: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    }),
  });
  return {
    status: res.status,
    body: await res.text(),
    sid: res.headers.get('mcp-session-id') ?? undefined,
  };
}

describe('MCP HTTP sessions are bounded', () => {
  let http: McpHttpServer;
  let clock = 1_000_000;
  let created = 0;
  let closed = 0;
  beforeAll(async () => {
    http = await serveMcpHttp({
      port: 0,
      token,
      logger: createLogger({ level: 'silent' }),
      maxSessions: 5,
      idleTimeoutMs: 60_000,
      now: () => clock,
      createServer: () => {
        created++;
        const server = new McpServer({ name: 'bounded', version: '1' });
        server.server.onclose = () => {
          closed++;
        };
        return server;
      },
    });
  });
  afterAll(() => http?.close());

  it('refuses sessions past the cap with 503 and a JSON-RPC error, and frees idle ones', async () => {
    const results = [];
    for (let i = 0; i < 12; i++) results.push(await initialize(http.url));
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const refused = results.filter((r) => r.status === 503);
    expect(refused).toHaveLength(7);
    expect(JSON.parse(refused[0]!.body)).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32000, message: expect.stringContaining('Too many MCP sessions') },
    });
    // A refused initialize never built a server.
    expect(created).toBe(5);
    expect(http.sessionCount()).toBe(5);

    clock += 60_001;
    expect(await http.sweepIdle()).toBe(5);
    expect(http.sessionCount()).toBe(0);
    expect(closed).toBe(5);
    expect((await initialize(http.url)).status).toBe(200);
  });

  it('a full server makes room by closing sessions past their idle time, never a busy one', async () => {
    await http.sweepIdle();
    clock += 120_000;
    await http.sweepIdle();
    const client = await connect(http.url);
    try {
      for (let i = 0; i < 4; i++) expect((await initialize(http.url)).status).toBe(200);
      expect((await initialize(http.url)).status).toBe(503);
      // The raw sessions go idle; the client keeps working.
      clock += 40_000;
      await client.ping();
      clock += 40_000;
      // The idle ones are closed to make room for a new one; the client's session survives.
      expect((await initialize(http.url)).status).toBe(200);
      expect(http.sessionCount()).toBe(2);
      await client.ping();
    } finally {
      await client.close();
    }
  });
});
