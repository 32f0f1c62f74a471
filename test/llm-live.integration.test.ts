// Against a real Ollama, when OLLAMA_URL is set: the adapter, the gateway,
// structured output, the tool-call path and the embedder with the configured
// role models. Each test skips, with the reason in its name, when Ollama is
// not configured or the model it needs is not pulled.
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { checkConsensus } from '../src/llm/consensus.ts';
import { LlmGateway } from '../src/llm/gateway.ts';
import { OllamaProvider } from '../src/llm/ollama-provider.ts';
import { sameModel } from '../src/llm/provider.ts';
import { chatStructured } from '../src/llm/structured-output.ts';
import { resolveToolCalls } from '../src/llm/tool-calls.ts';
import { OllamaEmbedder } from '../src/memory/ollama-embedder.ts';

const url = process.env.OLLAMA_URL;
const roles = {
  orchestrator: process.env.LLM_MODEL_ORCHESTRATOR ?? 'qwen2.5-coder:3b-instruct',
  reasoning: process.env.LLM_MODEL_REASONING ?? 'mistral:7b',
  vision: process.env.LLM_MODEL_VISION ?? 'llava:7b',
  embedding: process.env.LLM_MODEL_EMBEDDING ?? 'nomic-embed-text',
  validator: process.env.LLM_MODEL_VALIDATOR ?? 'phi3:mini',
};

// The default reporter folds a skipped file into one line; say why here too.
if (!url)
  console.info(
    'live Ollama tests skipped: set OLLAMA_URL (e.g. http://127.0.0.1:11434) to run them',
  );

describe.skipIf(!url)(
  'live Ollama (skipped: set OLLAMA_URL, e.g. http://127.0.0.1:11434, to run)',
  () => {
    let llm: LlmGateway;
    let have: string[] = [];
    const present = (m: string) => have.some((h) => sameModel(h, m));
    beforeAll(async () => {
      llm = new LlmGateway(new OllamaProvider({ url: url! }), { roles, timeoutMs: 300_000 });
      have = (await llm.listModels()).map((m) => m.name);
    });

    it('answers /api/version', async () => {
      expect((await llm.info()).version).toMatch(/^\d+\.\d+/);
    });

    it('chats with the orchestrator model and reports tokens/s (skips if the model is not pulled)', async (ctx) => {
      if (!present(roles.orchestrator)) ctx.skip();
      const res = await llm.chat({
        model: roles.orchestrator,
        messages: [{ role: 'user', content: 'Reply with the word ok.' }],
        maxTokens: 10,
      });
      expect(res.message.content.length).toBeGreaterThan(0);
      expect(res.usage.evalDurationNs).toBeGreaterThan(0);
      expect(
        llm.metrics.snapshot().find((m) => m.model === roles.orchestrator)?.tokensPerSecond,
      ).toBeGreaterThan(0);
    });

    it('gets a usable tool call from the orchestrator, native or recovered (skips if not pulled)', async (ctx) => {
      if (!present(roles.orchestrator)) ctx.skip();
      const tools = [
        {
          name: 'restart_service',
          description: 'Restart a systemd service on a host',
          parameters: {
            type: 'object',
            properties: { service: { type: 'string' }, host: { type: 'string' } },
            required: ['service', 'host'],
          },
        },
      ];
      const res = await llm.chat({
        model: roles.orchestrator,
        messages: [{ role: 'user', content: 'nginx is down on web-1. Restart it.' }],
        tools,
        temperature: 0,
      });
      const calls = resolveToolCalls(res, tools);
      expect(calls.calls[0]?.name).toBe('restart_service');
    });

    it('gives a valid consensus verdict from the validator (skips if not pulled)', async (ctx) => {
      if (!present(roles.validator)) ctx.skip();
      const r = await checkConsensus(
        {
          incident: 'nginx down on web-1; systemctl shows failed; port 80 refused',
          diagnosis: 'nginx crashed',
          action: { name: 'restart_service', parameters: { service: 'nginx', host: 'web-1' } },
        },
        { llm },
      );
      expect(['AGREED', 'PARTIAL', 'DISAGREED']).toContain(r.verdict);
    });

    it('returns structured output that validates (skips if not pulled)', async (ctx) => {
      if (!present(roles.orchestrator)) ctx.skip();
      const r = await chatStructured({
        llm,
        model: roles.orchestrator,
        messages: [
          {
            role: 'user',
            content: 'Classify: "disk 98% full on /var". Give a category and severity 1-5.',
          },
        ],
        schema: z.object({ category: z.string(), severity: z.number().int().min(1).max(5) }),
      });
      expect(r.value.severity).toBeGreaterThanOrEqual(1);
    });

    it('embeds with nomic-embed-text into 768 dimensions (skips if not pulled)', async (ctx) => {
      if (!present(roles.embedding)) ctx.skip();
      const e = new OllamaEmbedder({ llm, model: roles.embedding });
      const [a, b] = await e.embedDocuments(['disk full on web-1', 'PostgreSQL replica lag']);
      const q = await e.embedQuery('web-1 is out of disk space');
      const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
      expect(a).toHaveLength(768);
      expect(cos(q, a!)).toBeGreaterThan(cos(q, b!));
    });
  },
);
