// One contract for every LlmProvider adapter. Each adapter's test calls
// defineLlmProviderContract with a factory bound to the Ollama test server
// (native /api routes or the /v1 routes it also serves).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { OperationalError, UserError } from '../src/errors.ts';
import { isRetryable } from '../src/llm/errors.ts';
import type { ChatChunk, LlmProvider } from '../src/llm/provider.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

export type ProviderFactory = (url: string) => LlmProvider;

const model = 'qwen2.5-coder:3b-instruct';

async function collect(stream: AsyncIterable<ChatChunk>) {
  const chunks: ChatChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

export function defineLlmProviderContract(name: string, factory: ProviderFactory) {
  describe(`LlmProvider contract: ${name}`, () => {
    let server: OllamaTestServer;
    let llm: LlmProvider;
    beforeAll(async () => {
      server = await OllamaTestServer.start();
      llm = factory(server.url);
    });
    afterAll(() => server.close());
    beforeEach(() => server.reset());

    it('chats: sends the messages in order and returns the answer with token counts', async () => {
      server.script({ content: 'Restart nginx on web-1.', evalCount: 7 });
      const res = await llm.chat({
        model,
        messages: [
          { role: 'system', content: 'You are a careful operator.' },
          { role: 'user', content: 'nginx is down' },
        ],
      });
      expect(res.message).toEqual({ role: 'assistant', content: 'Restart nginx on web-1.' });
      expect(res.usage.completionTokens).toBe(7);
      expect(res.usage.promptTokens).toBeGreaterThan(0);
      const sent = server.requests.at(-1)!.body.messages as Array<{
        role: string;
        content: string;
      }>;
      expect(sent.map((m) => [m.role, m.content])).toEqual([
        ['system', 'You are a careful operator.'],
        ['user', 'nginx is down'],
      ]);
    });

    it('returns tool calls with their arguments as objects', async () => {
      server.script({
        toolCalls: [{ name: 'restart_service', arguments: { service: 'nginx', host: 'web-1' } }],
      });
      const res = await llm.chat({
        model,
        messages: [{ role: 'user', content: 'fix nginx' }],
        tools: [
          {
            name: 'restart_service',
            description: 'Restart a service',
            parameters: { type: 'object', properties: { service: { type: 'string' } } },
          },
        ],
      });
      expect(res.message.toolCalls?.map((c) => [c.name, c.arguments])).toEqual([
        ['restart_service', { service: 'nginx', host: 'web-1' }],
      ]);
      const sentTools = server.requests.at(-1)!.body.tools as Array<{ function: { name: string } }>;
      expect(sentTools[0]!.function.name).toBe('restart_service');
    });

    it('sends a tool result back to the model', async () => {
      await llm.chat({
        model,
        messages: [
          { role: 'user', content: 'disk?' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_0', name: 'df', arguments: { path: '/' } }],
          },
          { role: 'tool', content: '93%', toolName: 'df', toolCallId: 'call_0' },
        ],
      });
      const sent = server.requests.at(-1)!.body.messages as Array<Record<string, unknown>>;
      expect(sent[2]).toMatchObject({ role: 'tool', content: '93%' });
      expect(JSON.stringify(sent[1])).toMatch(/path/);
    });

    it('streams deltas that add up to the final answer', async () => {
      server.script({ content: 'Disk usage on db-2 is at 97 percent.' });
      const chunks = await collect(
        llm.chatStream({ model, messages: [{ role: 'user', content: 'status' }] }),
      );
      const deltas = chunks.filter((c) => c.type === 'delta');
      expect(deltas.length).toBeGreaterThan(3);
      const last = chunks.at(-1)!;
      expect(last.type).toBe('done');
      if (last.type !== 'done') return;
      expect(deltas.map((d) => (d.type === 'delta' ? d.content : '')).join('')).toBe(
        'Disk usage on db-2 is at 97 percent.',
      );
      expect(last.response.message.content).toBe('Disk usage on db-2 is at 97 percent.');
      expect(last.response.usage.completionTokens).toBeGreaterThan(0);
    });

    it('streams tool calls into the final answer', async () => {
      server.script({
        toolCalls: [{ name: 'disk_usage', arguments: { host: 'db-2', path: '/var' } }],
      });
      const chunks = await collect(
        llm.chatStream({ model, messages: [{ role: 'user', content: 'disk' }] }),
      );
      const last = chunks.at(-1)!;
      expect(last.type === 'done' && last.response.message.toolCalls).toEqual([
        expect.objectContaining({ name: 'disk_usage', arguments: { host: 'db-2', path: '/var' } }),
      ]);
    });

    it('passes a JSON schema for structured output', async () => {
      server.script({ content: '{"verdict":"AGREED"}' });
      const schema = {
        type: 'object',
        properties: { verdict: { type: 'string' } },
        required: ['verdict'],
      };
      const res = await llm.chat({
        model,
        messages: [{ role: 'user', content: 'judge' }],
        format: schema,
      });
      expect(JSON.parse(res.message.content)).toEqual({ verdict: 'AGREED' });
      expect(JSON.stringify(server.requests.at(-1)!.body)).toContain('"verdict"');
    });

    it('generates from a prompt', async () => {
      server.script({ content: 'ok' });
      const res = await llm.generate({ model, prompt: 'say ok', system: 'be brief' });
      expect(res.text).toBe('ok');
    });

    it('embeds a batch in order, one vector per input', async () => {
      const res = await llm.embed({
        model: 'nomic-embed-text',
        input: ['disk full', 'oom killer', 'disk full'],
      });
      expect(res.embeddings).toHaveLength(3);
      expect(res.embeddings[0]).toHaveLength(768);
      expect(res.embeddings[0]).toEqual(res.embeddings[2]);
      expect(res.embeddings[0]).not.toEqual(res.embeddings[1]);
    });

    it('lists the models on the server', async () => {
      const names = (await llm.listModels()).map((m) => m.name);
      expect(names).toContain('qwen2.5-coder:3b-instruct');
      expect(names).toContain('phi3:mini');
    });

    it('reports its server', async () => {
      const info = await llm.info();
      expect(info.kind).toBe(llm.kind);
      expect(info.url).toBe(server.url);
    });

    it('turns a missing model into llm_model_not_found that says how to fix it', async () => {
      const err = await llm
        .chat({ model: 'nope:1b', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('llm_model_not_found');
      expect((err as UserError).message).toContain('warden models pull');
    });

    it('turns 503 into a retryable llm_overloaded', async () => {
      server.overloadedFor = 1;
      const err = await llm
        .chat({ model, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OperationalError);
      expect((err as OperationalError).code).toBe('llm_overloaded');
      expect(isRetryable(err)).toBe(true);
    });

    it('turns a server crash into llm_server_error', async () => {
      server.script({ status: 500 });
      const err = await llm
        .chat({ model, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect((err as OperationalError).code).toBe('llm_server_error');
      expect((err as OperationalError).message).toContain('llama runner process has terminated');
    });

    it('cancels a slow answer when the signal aborts', async () => {
      server.script({ content: 'late', delayMs: 10_000 });
      const ac = new AbortController();
      const pending = llm.chat({
        model,
        messages: [{ role: 'user', content: 'x' }],
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(new Error('operator cancelled')), 50);
      await expect(pending).rejects.toThrow('operator cancelled');
    });

    it('cancels a stream when the signal aborts', async () => {
      server.script({ content: 'late', delayMs: 10_000 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop streaming')), 50);
      await expect(
        collect(
          llm.chatStream({ model, messages: [{ role: 'user', content: 'x' }], signal: ac.signal }),
        ),
      ).rejects.toThrow('stop streaming');
    });

    it('turns a refused connection into a retryable llm_unavailable', async () => {
      const dead = factory(await deadUrl());
      const err = await dead.listModels().catch((e: unknown) => e);
      expect((err as OperationalError).code).toBe('llm_unavailable');
      expect(isRetryable(err)).toBe(true);
    });
  });
}
