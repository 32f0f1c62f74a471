// Tool calls you can trust. Small models (qwen2.5-coder among them) often
// put the call in `content` instead of `tool_calls`: bare JSON, fenced JSON,
// <tool_call> tags, JSON followed by prose. This recovers those, and accepts
// a call — native or recovered — only when it names one of the offered tools.
import { extractJsonValues } from './json-extract.ts';
import type { ChatResponse, ToolCall, ToolDefinition } from './provider.ts';

export type RejectedToolCall = { name: string; reason: string };

export type ResolvedToolCalls = {
  calls: ToolCall[];
  /** Where the calls came from: the server's tool_calls, or recovered from content. */
  source: 'tool_calls' | 'content' | 'none';
  rejected: RejectedToolCall[];
};

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** One candidate call in any of the shapes models produce, or undefined. */
function normalise(v: unknown): { name: string; args: unknown } | undefined {
  const o = asObject(v);
  if (!o) return undefined;
  const fn = asObject(o.function);
  if (fn && typeof fn.name === 'string')
    return { name: fn.name, args: fn.arguments ?? fn.parameters ?? {} };
  if (typeof o.name === 'string' && ('arguments' in o || 'parameters' in o || 'args' in o))
    return { name: o.name, args: o.arguments ?? o.parameters ?? o.args };
  if (typeof o.tool === 'string' && ('arguments' in o || 'parameters' in o || 'tool_input' in o))
    return { name: o.tool, args: o.arguments ?? o.parameters ?? o.tool_input };
  return undefined;
}

function parseArgs(args: unknown): Record<string, unknown> | undefined {
  if (typeof args === 'string') {
    try {
      return asObject(JSON.parse(args));
    } catch {
      return undefined;
    }
  }
  return asObject(args ?? {});
}

/** Tool calls written into the text of an answer. */
export function parseToolCallsFromContent(
  content: string,
  tools: ToolDefinition[],
): ResolvedToolCalls {
  const offered = new Set(tools.map((t) => t.name));
  const calls: ToolCall[] = [];
  const rejected: RejectedToolCall[] = [];
  for (const value of extractJsonValues(content)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      const c = normalise(item);
      if (!c) continue;
      if (!offered.has(c.name)) {
        rejected.push({
          name: c.name,
          reason: `not one of the offered tools (${[...offered].join(', ')})`,
        });
        continue;
      }
      const args = parseArgs(c.args);
      if (!args) {
        rejected.push({ name: c.name, reason: 'arguments are not a JSON object' });
        continue;
      }
      calls.push({ name: c.name, arguments: args });
    }
  }
  return { calls, source: calls.length ? 'content' : 'none', rejected };
}

/** The calls of an answer: its tool_calls when it has them, else those recovered from content. */
export function resolveToolCalls(
  response: ChatResponse,
  tools: ToolDefinition[],
): ResolvedToolCalls {
  const native = response.message.toolCalls ?? [];
  if (native.length > 0) {
    const offered = new Set(tools.map((t) => t.name));
    const calls = native.filter((c) => offered.has(c.name));
    const rejected = native
      .filter((c) => !offered.has(c.name))
      .map((c) => ({
        name: c.name,
        reason: `not one of the offered tools (${[...offered].join(', ')})`,
      }));
    return { calls, source: calls.length ? 'tool_calls' : 'none', rejected };
  }
  return parseToolCallsFromContent(response.message.content, tools);
}
