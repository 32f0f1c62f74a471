// The gateway's policy against the Ollama test server: retries, timeouts,
// cancellation, the per-model queue, the circuit breaker and metrics; then
// structured output with repair, and consensus.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import type { UserError } from '../src/errors.ts';
import { OperationalError } from '../src/errors.ts';
import { CircuitBreaker } from '../src/llm/circuit-breaker.ts';
import { checkConsensus } from '../src/llm/consensus.ts';
import type { LlmGatewayOptions } from '../src/llm/gateway.ts';
import { LlmGateway } from '../src/llm/gateway.ts';
import { OllamaProvider } from '../src/llm/ollama-provider.ts';
import { chatStructured } from '../src/llm/structured-output.ts';
import { OllamaTestServer } from './helpers/ollama-test-server.ts';

const roles = {
  orchestrator: 'qwen2.5-coder:3b-instruct',
  reasoning: 'mistral:7b',
  vision: 'llava:7b',
  embedding: 'nomic-embed-text',
  validator: 'phi3:mini',
};
const model = roles.orchestrator;
const ask = [{ role: 'user' as const, content: 'status?' }];

let server: OllamaTestServer;
beforeAll(async () => {
  server = await OllamaTestServer.start();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

function gateway(options: Partial<LlmGatewayOptions> = {}) {
  return new LlmGateway(new OllamaProvider({ url: server.url }), {
    roles,
    backoffMs: 1,
    retries: 2,
    timeoutMs: 5_000,
    ...options,
  });
}

describe('LlmGateway reliability', () => {
  it('retries a 503 with backoff and succeeds', async () => {
    server.overloadedFor = 2;
    const res = await gateway().chat({ model, messages: ask });
    expect(res.message.content).toContain('disk');
    expect(server.requestsTo('/api/chat')).toHaveLength(3);
  });

  it('gives up after the configured retries with llm_overloaded', async () => {
    server.overloadedFor = 10;
    const err = await gateway({ retries: 1 })
      .chat({ model, messages: ask })
      .catch((e: unknown) => e);
    expect((err as OperationalError).code).toBe('llm_overloaded');
    expect(server.requestsTo('/api/chat')).toHaveLength(2);
  });

  it('does not retry a missing model', async () => {
    const err = await gateway()
      .chat({ model: 'ghost:1b', messages: ask })
      .catch((e: unknown) => e);
    expect((err as UserError).code).toBe('llm_model_not_found');
    expect(server.requestsTo('/api/chat')).toHaveLength(1);
  });

  it('times out a slow answer with llm_timeout naming the setting', async () => {
    server.script({ content: 'late', delayMs: 10_000 });
    const err = await gateway({ timeoutMs: 100 })
      .chat({ model, messages: ask })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as OperationalError).code).toBe('llm_timeout');
    expect((err as Error).message).toContain('LLM_TIMEOUT_MS');
  });

  it("passes the caller's abort through and does not count it against the server", async () => {
    server.script({ content: 'late', delayMs: 10_000 });
    const g = gateway({ breaker: new CircuitBreaker({ failureThreshold: 1 }) });
    const ac = new AbortController();
    const pending = g.chat({ model, messages: ask, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user pressed ctrl-c')), 30);
    await expect(pending).rejects.toThrow('user pressed ctrl-c');
    expect(g.breaker.snapshot().state).toBe('closed');
  });

  it('queues requests to one model (one at a time) while other models run alongside', async () => {
    server.script(...Array.from({ length: 5 }, () => ({ content: 'ok', delayMs: 40 })));
    const g = gateway({ concurrencyPerModel: 1 });
    await Promise.all([
      g.chat({ model, messages: ask }),
      g.chat({ model, messages: ask }),
      g.chat({ model, messages: ask }),
      g.chat({ model: 'phi3:mini', messages: ask }),
      g.chat({ model: 'phi3:mini', messages: ask }),
    ]);
    expect(server.peakInFlight.get(model)).toBe(1);
    expect(server.peakInFlight.get('phi3:mini')).toBe(1);
    expect(g.limiter.stats()[model]).toEqual({ active: 0, queued: 0 });
  });

  it('times out a request still waiting in the queue without blaming the server', async () => {
    server.script({ content: 'slow', delayMs: 300 });
    const g = gateway({ breaker: new CircuitBreaker({ failureThreshold: 1 }) });
    const first = g.chat({ model, messages: ask, timeoutMs: 5_000 });
    const queued = await g.chat({ model, messages: ask, timeoutMs: 100 }).catch((e: unknown) => e);
    expect((queued as OperationalError).code).toBe('llm_timeout');
    expect((await first).message.content).toBe('slow');
    expect(g.breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    expect(server.requestsTo('/api/chat')).toHaveLength(1);
  });

  it('allows as many requests per model as configured', async () => {
    server.script(...Array.from({ length: 4 }, () => ({ content: 'ok', delayMs: 60 })));
    const g = gateway({ concurrencyPerModel: 2 });
    await Promise.all(Array.from({ length: 4 }, () => g.chat({ model, messages: ask })));
    expect(server.peakInFlight.get(model)).toBe(2);
  });

  it('opens the circuit after consecutive failures, refuses without calling, then half-opens and closes', async () => {
    let now = 1_000_000;
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 30_000, now: () => now });
    const g = gateway({ retries: 0, breaker });
    server.overloadedFor = 2;
    await expect(g.chat({ model, messages: ask })).rejects.toThrow(/busy/);
    await expect(g.chat({ model, messages: ask })).rejects.toThrow(/busy/);
    expect(breaker.snapshot().state).toBe('open');
    const before = server.requests.length;
    const err = await g.chat({ model, messages: ask }).catch((e: unknown) => e);
    expect((err as OperationalError).code).toBe('llm_circuit_open');
    expect(server.requests.length).toBe(before);
    // Refusals while open do not push the cooldown back.
    now += 29_000;
    await expect(g.chat({ model, messages: ask })).rejects.toThrow(/stops calling/);
    now += 1_000;
    expect(breaker.snapshot().state).toBe('half_open');
    await g.chat({ model, messages: ask });
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
  });

  it('reopens when the half-open trial fails', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000, now: () => now });
    const g = gateway({ retries: 0, breaker });
    server.overloadedFor = 2;
    await expect(g.chat({ model, messages: ask })).rejects.toThrow(/busy/);
    now += 1_000;
    await expect(g.chat({ model, messages: ask })).rejects.toThrow(/busy/);
    expect(breaker.snapshot().state).toBe('open');
  });

  it('reports health with the circuit state', async () => {
    const h = await gateway().health();
    expect(h).toMatchObject({ ok: true, version: '0.12.6', circuit: { state: 'closed' } });
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const g = gateway({ retries: 0, breaker });
    server.overloadedFor = 1;
    await g.chat({ model, messages: ask }).catch(() => {});
    const down = await g.health();
    expect(down).toMatchObject({ ok: false, circuit: { state: 'open', consecutiveFailures: 1 } });
    expect(down.detail).toContain('stops calling');
  });

  it('counts tokens and tokens/s per model from eval_count / eval_duration (ns)', async () => {
    server.script(
      {
        content: 'a b c',
        evalCount: 50,
        evalDurationNs: 1_000_000_000,
        loadDurationNs: 2_500_000_000,
      },
      { content: 'd e f', evalCount: 30, evalDurationNs: 1_000_000_000 },
    );
    server.overloadedFor = 0;
    const g = gateway();
    await g.chat({ model, messages: ask });
    await g.chat({ model, messages: ask });
    await g.chat({ model: 'ghost:1b', messages: ask }).catch(() => {});
    const m = g.metrics.snapshot().find((x) => x.model === model)!;
    expect(m.requests).toBe(2);
    expect(m.errors).toBe(0);
    expect(m.completionTokens).toBe(80);
    expect(m.tokensPerSecond).toBeCloseTo(40, 6);
    expect(m.loads).toBe(1);
    expect(m.loadDurationNs).toBe(2_500_000_000 + 1_350_000);
    const ghost = g.metrics.snapshot().find((x) => x.model === 'ghost:1b')!;
    expect(ghost.errorsByCode).toEqual({ llm_model_not_found: 1 });
  });

  it('streams through the gateway and retries only before the first chunk', async () => {
    server.overloadedFor = 1;
    server.script({ content: 'one two three four' });
    const g = gateway();
    let text = '';
    for await (const c of g.chatStream({ model, messages: ask }))
      if (c.type === 'delta') text += c.content;
    expect(text).toBe('one two three four');

    server.script({ content: 'one two three four five', breakAfterChunks: 2 });
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of g.chatStream({ model, messages: ask }))
        if (c.type === 'delta') got.push(c.content);
    })().catch((e: unknown) => e);
    expect((err as OperationalError).code).toBe('llm_stream_broken');
    expect(got).toEqual(['one ', 'two ']);
    expect(server.requestsTo('/api/chat').length).toBe(3);
  });
  it('cancels the request and frees the model when the reader stops early', async () => {
    server.script(
      { content: 'one two three four five six seven eight', delayMs: 0 },
      { content: 'next' },
    );
    const g = gateway();
    for await (const c of g.chatStream({ model, messages: ask })) {
      if (c.type === 'delta') break;
    }
    expect(g.limiter.stats()[model]).toEqual({ active: 0, queued: 0 });
    expect(g.breaker.snapshot().state).toBe('closed');
    const res = await g.chat({ model, messages: ask });
    expect(res.message.content).toBe('next');
  });
});

describe('structured output', () => {
  const diagnosis = z.object({
    cause: z.string(),
    confidence: z.number().min(0).max(1),
    action: z.enum(['restart_service', 'clear_cache', 'escalate']),
  });

  it('sends the JSON schema as format and validates the answer', async () => {
    server.script({
      content: '{"cause":"memory leak","confidence":0.8,"action":"restart_service"}',
    });
    const r = await chatStructured({ llm: gateway(), model, messages: ask, schema: diagnosis });
    expect(r.value).toEqual({ cause: 'memory leak', confidence: 0.8, action: 'restart_service' });
    expect(r.repairs).toBe(0);
    const format = server.requests.at(-1)!.body.format as { properties: Record<string, unknown> };
    expect(Object.keys(format.properties)).toEqual(['cause', 'confidence', 'action']);
  });

  it('reads JSON wrapped in a fence and prose', async () => {
    server.script({
      content:
        'Here is my analysis:\n```json\n{"cause":"disk full","confidence":0.9,"action":"clear_cache"}\n```\nHope it helps.',
    });
    const r = await chatStructured({ llm: gateway(), model, messages: ask, schema: diagnosis });
    expect(r.value.action).toBe('clear_cache');
  });

  it('repairs once by sending the validation errors back', async () => {
    server.script(
      { content: '{"cause":"oom","confidence":"high","action":"reboot_everything"}' },
      { content: '{"cause":"oom","confidence":0.7,"action":"escalate"}' },
    );
    const r = await chatStructured({ llm: gateway(), model, messages: ask, schema: diagnosis });
    expect(r.value.confidence).toBe(0.7);
    expect(r.repairs).toBe(1);
    const repair = server.requests.at(-1)!.body.messages as Array<{
      role: string;
      content: string;
    }>;
    expect(repair.at(-1)!.content).toContain('confidence');
    expect(repair.at(-1)!.content).toContain('action');
    expect(repair.at(-2)).toMatchObject({ role: 'assistant' });
  });

  it('fails with llm_invalid_output when the repair is invalid too', async () => {
    server.script({ content: 'I think it is the disk.' }, { content: '{"cause": "disk"}' });
    const err = await chatStructured({
      llm: gateway(),
      model,
      messages: ask,
      schema: diagnosis,
    }).catch((e: unknown) => e);
    expect((err as OperationalError).code).toBe('llm_invalid_output');
    expect(server.requestsTo('/api/chat')).toHaveLength(2);
  });
});

describe('consensus', () => {
  const proposal = {
    incident: 'ALERT nginx down on web-1; systemctl says failed; port 80 refused',
    diagnosis: 'nginx crashed after a config reload',
    action: {
      name: 'restart_service',
      parameters: { service: 'nginx', host: 'web-1' },
      risk: 'change',
    },
  };

  it('asks the validator role and approves only AGREED', async () => {
    server.script({
      content: '{"verdict":"AGREED","reasons":["the unit is failed and the port closed"]}',
    });
    const r = await checkConsensus(proposal, { llm: gateway() });
    expect(r).toMatchObject({ verdict: 'AGREED', approved: true, model: 'phi3:mini' });
    expect(server.requests.at(-1)!.body.model).toBe('phi3:mini');
    expect(JSON.stringify(server.requests.at(-1)!.body.messages)).toContain('restart_service');
  });

  it('returns PARTIAL and DISAGREED with reasons, not approved', async () => {
    server.script(
      {
        content:
          '{"verdict":"PARTIAL","reasons":["check the config first"],"alternative":"nginx -t"}',
      },
      { content: '{"verdict":"DISAGREED","reasons":["the logs show a disk full error"]}' },
    );
    const a = await checkConsensus(proposal, { llm: gateway() });
    const b = await checkConsensus(proposal, { llm: gateway() });
    expect([a.verdict, a.approved, a.alternative]).toEqual(['PARTIAL', false, 'nginx -t']);
    expect([b.verdict, b.approved, b.reasons]).toEqual([
      'DISAGREED',
      false,
      ['the logs show a disk full error'],
    ]);
  });

  it('repairs a verdict outside the three words', async () => {
    server.script(
      { content: '{"verdict":"YES","reasons":["fine"]}' },
      { content: '{"verdict":"AGREED","reasons":["fine"]}' },
    );
    const r = await checkConsensus(proposal, { llm: gateway() });
    expect([r.verdict, r.repairs]).toEqual(['AGREED', 1]);
  });
});
