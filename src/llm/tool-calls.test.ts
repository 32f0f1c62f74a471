import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import type { ChatResponse, ToolDefinition } from './provider.ts';
import { parseToolCallsFromContent, resolveToolCalls } from './tool-calls.ts';

type Fixture = {
  name: string;
  content: string;
  expect: Array<{ name: string; arguments: Record<string, unknown> }>;
  rejected?: string[];
};

const fixtures = JSON.parse(
  readFileSync(new URL('../../test/fixtures/malformed-tool-calls.json', import.meta.url), 'utf8'),
) as { cases: Fixture[] };

const obj = { type: 'object' };
const tools: ToolDefinition[] = [
  { name: 'restart_service', description: 'Restart a service', parameters: obj },
  { name: 'disk_usage', description: 'Disk usage of a path', parameters: obj },
  { name: 'tail_log', description: 'Last lines of a unit log', parameters: obj },
];

const answer = (
  content: string,
  toolCalls?: ChatResponse['message']['toolCalls'],
): ChatResponse => ({
  model: 'qwen2.5-coder:3b-instruct',
  message: { role: 'assistant', content, ...(toolCalls ? { toolCalls } : {}) },
  doneReason: 'stop',
  usage: { promptTokens: 0, completionTokens: 0 },
});

describe('tool call fallback parser (fixtures of real malformed outputs)', () => {
  it.each(fixtures.cases)('$name', (f) => {
    const res = parseToolCallsFromContent(f.content, tools);
    expect(res.calls).toEqual(f.expect);
    expect(res.source).toBe(f.expect.length ? 'content' : 'none');
    expect(res.rejected.map((r) => r.name)).toEqual(f.rejected ?? []);
  });
});

describe('resolveToolCalls', () => {
  it('prefers the native tool_calls over content', () => {
    const res = resolveToolCalls(
      answer('{"name": "disk_usage", "arguments": {"host": "x"}}', [
        { name: 'restart_service', arguments: { service: 'nginx' } },
      ]),
      tools,
    );
    expect(res).toEqual({
      calls: [{ name: 'restart_service', arguments: { service: 'nginx' } }],
      source: 'tool_calls',
      rejected: [],
    });
  });

  it('refuses a native call to a tool that was not offered', () => {
    const res = resolveToolCalls(
      answer('', [{ name: 'shell', arguments: { cmd: 'reboot' } }]),
      tools,
    );
    expect(res.calls).toEqual([]);
    expect(res.rejected.map((r) => r.name)).toEqual(['shell']);
  });

  it('falls back to content when tool_calls is empty', () => {
    const res = resolveToolCalls(
      answer('```json\n{"name":"disk_usage","arguments":{"host":"a","path":"/"}}\n```'),
      tools,
    );
    expect(res.source).toBe('content');
    expect(res.calls[0]?.name).toBe('disk_usage');
  });
});
