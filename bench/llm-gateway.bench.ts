// What the gateway costs per request: the same non-streaming /api/chat call
// to the Ollama test server made directly with fetch, through the bare
// OllamaProvider, and through the LlmGateway (timeout, queue, breaker,
// retries armed, metrics). The server answers at once, so the differences are
// Warden's own work. Target: gateway overhead < 1 ms per request.
//
// BENCH_REQUESTS=2000 per variant (default); variants run interleaved in rounds
// so that drift in the machine's load hits all of them alike.
import { LlmGateway } from '../src/llm/gateway.ts';
import { OllamaProvider } from '../src/llm/ollama-provider.ts';
import { OllamaTestServer } from '../test/helpers/ollama-test-server.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? 2000);
const model = 'qwen2.5-coder:3b-instruct';
const messages = [{ role: 'user' as const, content: 'Is nginx on web-1 healthy?' }];

const server = await OllamaTestServer.start();
const provider = new OllamaProvider({ url: server.url });
const gateway = new LlmGateway(provider, {
  roles: {
    orchestrator: model,
    reasoning: model,
    vision: model,
    embedding: 'nomic-embed-text',
    validator: model,
  },
});

const variants: Record<string, () => Promise<unknown>> = {
  'direct fetch': async () => {
    const res = await fetch(`${server.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, stream: false }),
    });
    return res.json();
  },
  OllamaProvider: () => provider.chat({ model, messages }),
  LlmGateway: () => gateway.chat({ model, messages }),
};

const times: Record<string, number[]> = Object.fromEntries(
  Object.keys(variants).map((k) => [k, []]),
);
for (const fn of Object.values(variants)) for (let i = 0; i < 200; i++) await fn(); // warm-up
const rounds = 20;
for (let r = 0; r < rounds; r++) {
  for (const [name, fn] of Object.entries(variants)) {
    for (let i = 0; i < requests / rounds; i++) {
      const t = performance.now();
      await fn();
      times[name]!.push(performance.now() - t);
    }
  }
  server.requests.length = 0; // the test server records requests; keep memory flat
}
await server.close();

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = times['direct fetch']!;
for (const [name, xs] of Object.entries(times))
  console.log(
    `${name.padEnd(15)} p50 ${pct(xs, 0.5).toFixed(3)} ms  p95 ${pct(xs, 0.95).toFixed(3)} ms  mean ${mean(xs).toFixed(3)} ms` +
      (xs === base
        ? ''
        : `  overhead vs direct: p50 ${(pct(xs, 0.5) - pct(base, 0.5)).toFixed(3)} ms, mean ${(mean(xs) - mean(base)).toFixed(3)} ms`),
  );
console.log(`(${requests} requests per variant)`);
