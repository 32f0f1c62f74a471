// The orchestrator agent against the Ollama test server and a real MCP
// server (in memory): it runs the tools the model calls, native or written
// into the text as small models do, refuses a tool it was not offered
// without running anything, feeds results back, and stops at maxSteps.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { createLlmGateway } from '../src/app.ts';
import { Agent } from '../src/mcp/agent.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';
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
