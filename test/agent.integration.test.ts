// The orchestrator agent against the Ollama test server and a real MCP
// server (in memory): it runs the tools the model calls, native or written
// into the text as small models do, refuses a tool it was not offered
// without running anything, feeds results back, and stops at maxSteps; and
// `warden agent` with the local servers, as a person runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { z } from 'zod';

import { createLlmGateway } from '../src/app.ts';
import { Agent } from '../src/mcp/agent.ts';
import { runWarden } from './helpers/cli.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { testConfig } from './helpers/services.ts';

const model = 'qwen2.5-coder:3b-instruct';
let ollama: OllamaTestServer;
let client: Client;
const calls: string[] = [];

beforeAll(async () => {
  ollama = await OllamaTestServer.start();
  const server = new McpServer({ name: 'box', version: '1.0.0' });
  server.registerTool(
    'lookup',
    {
      description: 'Reads a fact about the box',
      inputSchema: { key: z.enum(['disk', 'load']) },
      annotations: { readOnlyHint: true },
    },
    ({ key }) => {
      calls.push(`lookup ${key}`);
      return {
        content: [{ type: 'text', text: key === 'disk' ? 'disk 91% full' : 'load 0.4' }],
      };
    },
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(b);
});
afterAll(async () => {
  await client?.close();
  await ollama?.close();
});
beforeEach(() => {
  ollama.reset();
  calls.length = 0;
});

const agent = (maxSteps?: number) =>
  new Agent({
    llm: createLlmGateway(testConfig({ OLLAMA_URL: ollama.url, LLM_RETRIES: '0' })),
    model,
    servers: [{ name: 'box', client }],
    ...(maxSteps ? { maxSteps } : {}),
  });

type SentMessage = { role: string; content: string };
const sent = (i: number) => ollama.requests.filter((r) => r.path === '/api/chat')[i]!.body;

describe('the orchestrator agent', () => {
  it('runs offered tools, native or written in the text, refuses made-up ones, and answers', async () => {
    ollama.script(
      { toolCalls: [{ name: 'box_lookup', arguments: { key: 'disk' } }] },
      // qwen2.5-coder often writes the call as fenced JSON instead of tool_calls.
      { content: '```json\n{"name": "box_lookup", "arguments": {"key": "load"}}\n```' },
      { toolCalls: [{ name: 'shell_exec', arguments: { cmd: 'rm -rf /' } }] },
      { content: 'The disk is 91% full; load is fine.' },
    );
    const result = await agent().run('Why is the box slow?');
    expect(result).toMatchObject({
      answer: 'The disk is 91% full; load is fine.',
      stopped: 'answer',
      steps: 4,
      toolCalls: 2,
    });
    expect(calls).toEqual(['lookup disk', 'lookup load']);
    expect(result.events.map((e) => e.type)).toEqual([
      'tool_call',
      'tool_result',
      'tool_call',
      'tool_result',
      'refused',
      'answer',
    ]);
    // The model was offered the tool by its server-qualified name, with its schema.
    const offered = (sent(0).tools as { function: { name: string; parameters: unknown } }[])[0]!;
    expect(offered.function.name).toBe('box_lookup');
    expect(JSON.stringify(offered.function.parameters)).toContain('"disk"');
    // Each result went back to the model; so did the refusal.
    const second = sent(1).messages as SentMessage[];
    expect(second.at(-1)).toMatchObject({ role: 'tool', content: 'disk 91% full' });
    const fourth = sent(3).messages as SentMessage[];
    expect(fourth.at(-1)!.content).toMatch(/^refused: not one of the offered tools \(box_lookup\)/);
  });

  it('shows the server’s argument errors to the model instead of failing the run', async () => {
    ollama.script(
      { toolCalls: [{ name: 'box_lookup', arguments: { key: 'memory' } }] },
      { content: 'I cannot read memory with this tool.' },
    );
    const result = await agent().run('How much memory is free?');
    expect(calls).toEqual([]);
    const error = result.events.find((e) => e.type === 'tool_result');
    expect(error).toMatchObject({ isError: true });
    expect((sent(1).messages as SentMessage[]).at(-1)!.content).toMatch(/^error: /);
    expect(result.stopped).toBe('answer');
  });

  it('stops after maxSteps when the model never answers', async () => {
    ollama.script(
      ...Array.from({ length: 5 }, () => ({
        toolCalls: [{ name: 'box_lookup', arguments: { key: 'load' } }],
      })),
    );
    const result = await agent(3).run('Loop forever');
    expect(result).toMatchObject({ stopped: 'max_steps', steps: 3, toolCalls: 3 });
    expect(ollama.requests.filter((r) => r.path === '/api/chat')).toHaveLength(3);
  });
});

describe('warden agent', () => {
  it('works on a task with the local MCP servers and remembers what it learnt', async () => {
    const db = await createTestDatabase();
    const cwd = mkdtempSync(join(tmpdir(), 'warden-agent-'));
    try {
      ollama.script(
        {
          toolCalls: [
            {
              name: 'memory_create_entities',
              arguments: {
                entities: [{ name: 'web-1', entityType: 'host', observations: ['runs nginx'] }],
              },
            },
          ],
        },
        { content: '{"name": "memory_search_nodes", "arguments": {"query": "NGINX"}}' },
        { content: 'web-1 runs nginx; I noted it in the knowledge graph.' },
      );
      const env = { DATABASE_URL: db.url, OLLAMA_URL: ollama.url, LLM_RETRIES: '0' };
      const res = await runWarden(['agent', 'Note', 'that', 'web-1', 'runs', 'nginx', '--json'], {
        cwd,
        env,
      });
      expect(res.code).toBe(0);
      const out = JSON.parse(res.stdout) as {
        answer: string;
        events: { type: string; tool?: string; text?: string }[];
      };
      expect(out.answer).toBe('web-1 runs nginx; I noted it in the knowledge graph.');
      const search = out.events.find(
        (e) => e.type === 'tool_result' && e.tool === 'memory_search_nodes',
      );
      expect(search?.text).toContain('runs nginx');
      // Offered: the local servers' tools; no files (no roots configured), no ops.
      const offered = (sent(0).tools as { function: { name: string } }[]).map(
        (t) => t.function.name,
      );
      expect(offered).toEqual(
        expect.arrayContaining([
          'memory_create_entities',
          'thinking_sequentialthinking',
          'workflows_list_workflows',
        ]),
      );
      expect(offered.some((n) => n.startsWith('files_') || n.startsWith('ops_'))).toBe(false);
      // The graph is in the database, for the next run.
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows } = await c.query('SELECT name, entity_type FROM kg_entities');
        expect(rows).toEqual([{ name: 'web-1', entity_type: 'host' }]);
      } finally {
        await c.end();
      }
      const bad = await runWarden(['agent', 'x', '--servers', 'ops'], { cwd, env });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('unknown local MCP server "ops"');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      await db.drop();
    }
  });
});
