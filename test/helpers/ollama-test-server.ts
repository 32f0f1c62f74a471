// A test double of an Ollama server that speaks its real HTTP API: NDJSON
// streams for /api/chat, /api/generate and /api/pull, tool_calls with object
// arguments, durations in nanoseconds, 404 {"error":"model 'x' not found"},
// 503 when overloaded, slow answers for timeouts. It also serves the
// OpenAI-compatible /v1 routes (SSE streams, string tool arguments) the way
// Ollama itself does, so one contract suite runs both adapters. Chat
// messages may carry base64 `images` (the vision role); they are checked
// like Ollama checks them and recorded with the request.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedAnswer = {
  /** The assistant's text, as the model would write it. */
  content?: string;
  /** Proper tool calls (in message.tool_calls). */
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
  /** Milliseconds before the first byte. */
  delayMs?: number;
  /** Answer with this HTTP status and an error body instead. */
  status?: number;
  error?: string;
  /** Generated tokens and eval time to report. @default words of content, 20 ms each */
  evalCount?: number;
  evalDurationNs?: number;
  loadDurationNs?: number;
  /** Close the socket mid-stream after this many chunks. */
  breakAfterChunks?: number;
};

export type RecordedRequest = { method: string; path: string; body: Record<string, unknown> };

export type TestModel = { name: string; size: number; family: string; parameterSize: string };

const defaultModels: TestModel[] = [
  {
    name: 'qwen2.5-coder:3b-instruct',
    size: 1_929_912_432,
    family: 'qwen2',
    parameterSize: '3.1B',
  },
  { name: 'mistral:7b', size: 4_113_301_824, family: 'llama', parameterSize: '7.2B' },
  { name: 'phi3:mini', size: 2_176_178_913, family: 'phi3', parameterSize: '3.8B' },
  {
    name: 'nomic-embed-text:latest',
    size: 274_302_450,
    family: 'nomic-bert',
    parameterSize: '137M',
  },
];

/** Layers a pull downloads, per model the registry knows. */
const registry: Record<string, number[]> = {
  'mistral:7b': [4_113_289_984, 11_358, 485],
  'llava:7b': [4_109_865_159, 624_434_368, 1_480],
  'qwen2.5-coder:3b-instruct': [1_929_903_104, 6_800],
  'phi3:mini': [2_176_177_152, 1_100],
  'nomic-embed-text:latest': [274_290_656, 11_357],
};

const norm = (m: string) => (m.includes(':') ? m : `${m}:latest`);
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Deterministic 768-dim "embedding": hashed words, so shared words mean closer vectors. */
export function fakeEmbedding(text: string, dim = 768): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const h = createHash('md5').update(w).digest();
    v[h.readUInt32LE(0) % dim]! += h[4]! & 1 ? 1 : -1;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}

export class OllamaTestServer {
  readonly requests: RecordedRequest[] = [];
  readonly models = new Map<string, TestModel>();
  /** Requests answered 503 before the server serves again. */
  overloadedFor = 0;
  /** Most requests in flight at once, per model. */
  readonly peakInFlight = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly scripts: ScriptedAnswer[] = [];
  private readonly loaded = new Set<string>();
  private server = createServer((req, res) => void this.handle(req, res));
  url = '';

  static async start(): Promise<OllamaTestServer> {
    const s = new OllamaTestServer();
    for (const m of defaultModels) s.models.set(m.name, m);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** Queues answers; each chat/generate takes the next one, else a default. */
  script(...answers: ScriptedAnswer[]): void {
    this.scripts.push(...answers);
  }

  /** Waits (up to 2 s) until requests that callers abandoned have finished on this side. */
  async settle(): Promise<void> {
    for (let i = 0; i < 200 && [...this.inFlight.values()].some((n) => n > 0); i++)
      await new Promise((r) => setTimeout(r, 10));
  }

  /** Forgets scripts, requests and pulled models; call between tests. */
  async reset(): Promise<void> {
    await this.settle();
    this.scripts.length = 0;
    this.requests.length = 0;
    this.overloadedFor = 0;
    this.peakInFlight.clear();
    this.models.clear();
    for (const m of defaultModels) this.models.set(m.name, m);
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** The base64 images each /api/chat request carried in its messages' `images`, in order. */
  imagesSent(): string[][] {
    return this.requestsTo('/api/chat').map((r) =>
      (Array.isArray(r.body.messages) ? (r.body.messages as { images?: unknown }[]) : []).flatMap(
        (m) => (Array.isArray(m.images) ? m.images.map(String) : []),
      ),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return this.send(res, 400, { error: 'invalid character in JSON body' });
    }
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, body });
    const oa = path.startsWith('/v1/');
    if (this.overloadedFor > 0 && req.method === 'POST') {
      this.overloadedFor--;
      const msg = 'server busy, please try again.  maximum pending requests exceeded';
      return this.send(
        res,
        503,
        oa ? { error: { message: msg, type: 'api_error' } } : { error: msg },
      );
    }
    try {
      switch (`${req.method} ${path}`) {
        case 'GET /api/version':
          return this.send(res, 200, { version: '0.12.6' });
        case 'GET /api/tags':
          return this.send(res, 200, { models: [...this.models.values()].map((m) => this.tag(m)) });
        case 'GET /api/ps':
          return this.send(res, 200, {
            models: [...this.loaded].map((n) => ({
              ...this.tag(this.models.get(n)!),
              expires_at: new Date(Date.now() + 300_000).toISOString(),
              size_vram: this.models.get(n)!.size,
            })),
          });
        case 'POST /api/pull':
          return await this.pull(res, body);
        case 'POST /api/embed':
        case 'POST /v1/embeddings':
          return this.embed(res, body, oa);
        case 'POST /api/chat':
        case 'POST /api/generate':
        case 'POST /v1/chat/completions':
          return await this.complete(res, path, body);
        case 'GET /v1/models':
          return this.send(res, 200, {
            object: 'list',
            data: [...this.models.values()].map((m) => ({
              id: m.name,
              object: 'model',
              created: 1_730_000_000,
              owned_by: 'library',
            })),
          });
        default:
          return this.send(
            res,
            404,
            oa ? { error: { message: '404 page not found' } } : '404 page not found',
          );
      }
    } catch (err) {
      if (!res.headersSent) this.send(res, 500, { error: String(err) });
      else res.destroy();
    }
  }

  private tag(m: TestModel) {
    return {
      name: m.name,
      model: m.name,
      modified_at: '2026-10-01T12:00:00.000Z',
      size: m.size,
      digest: digestOf(m.name).slice(7),
      details: {
        parent_model: '',
        format: 'gguf',
        family: m.family,
        families: [m.family],
        parameter_size: m.parameterSize,
        quantization_level: 'Q4_K_M',
      },
    };
  }

  private send(res: ServerResponse, status: number, body: unknown) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8',
    });
    res.end(text);
  }

  private missing(res: ServerResponse, model: string, oa: boolean) {
    // Ollama's own wording for both dialects.
    return oa
      ? this.send(res, 404, {
          error: {
            message: `model "${model}" not found, try pulling it first`,
            type: 'api_error',
            param: null,
            code: null,
          },
        })
      : this.send(res, 404, { error: `model '${model}' not found` });
  }

  private enter(model: string): () => void {
    const n = (this.inFlight.get(model) ?? 0) + 1;
    this.inFlight.set(model, n);
    this.peakInFlight.set(model, Math.max(this.peakInFlight.get(model) ?? 0, n));
    return () => this.inFlight.set(model, (this.inFlight.get(model) ?? 1) - 1);
  }

  private embed(res: ServerResponse, body: Record<string, unknown>, oa: boolean) {
    const model = String(body.model ?? '');
    if (!this.models.has(norm(model))) return this.missing(res, model, oa);
    const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input ?? '')];
    const vectors = input.map((t) => fakeEmbedding(t));
    const tokens = input.reduce((n, t) => n + t.split(/\s+/).length, 0);
    if (oa)
      return this.send(res, 200, {
        object: 'list',
        data: vectors.map((embedding, index) => ({ object: 'embedding', embedding, index })),
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    return this.send(res, 200, {
      model,
      embeddings: vectors,
      total_duration: 14_143_917,
      load_duration: 1_019_500,
      prompt_eval_count: tokens,
    });
  }

  private async pull(res: ServerResponse, body: Record<string, unknown>) {
    const model = norm(String(body.model ?? body.name ?? ''));
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    line({ status: 'pulling manifest' });
    const layers = registry[model];
    if (!layers) {
      line({ error: 'pull model manifest: file does not exist' });
      return res.end();
    }
    for (const [i, total] of layers.entries()) {
      const digest = digestOf(`${model}/${i}`);
      for (const f of [0, 0.5, 1])
        line({
          status: `pulling ${digest.slice(7, 19)}`,
          digest,
          total,
          completed: Math.round(total * f),
        });
      await new Promise((r) => setImmediate(r));
    }
    line({ status: 'verifying sha256 digest' });
    line({ status: 'writing manifest' });
    const [name, tag] = model.split(':');
    this.models.set(model, {
      name: model,
      size: layers.reduce((a, b) => a + b, 0),
      family: name!,
      parameterSize: tag!,
    });
    line({ status: 'success' });
    res.end();
  }

  private async complete(res: ServerResponse, path: string, body: Record<string, unknown>) {
    const oa = path.startsWith('/v1/');
    const model = String(body.model ?? '');
    if (!this.models.has(norm(model))) return this.missing(res, model, oa);
    // Ollama decodes each message's `images` as base64 bytes (Go's []byte) and refuses the
    // request when one is not; the same for /api/generate's top-level `images`.
    if (!oa) {
      const messages = Array.isArray(body.messages)
        ? (body.messages as { images?: unknown }[])
        : [];
      const images = [body, ...messages].flatMap((m) =>
        m.images === undefined ? [] : Array.isArray(m.images) ? m.images : [m.images],
      );
      const bad = images.findIndex(
        (i) => typeof i !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(i) || i.length % 4 !== 0,
      );
      if (bad >= 0) return this.send(res, 400, { error: `illegal base64 data in image ${bad}` });
    }
    const answer: ScriptedAnswer = this.scripts.shift() ?? {
      content: 'The disk on web-1 is 93% full.',
    };
    const leave = this.enter(norm(model));
    try {
      if (answer.delayMs) {
        const closed = new Promise((r) => res.once('close', r));
        await Promise.race([new Promise((r) => setTimeout(r, answer.delayMs)), closed]);
        if (res.destroyed || res.writableEnded) return;
      }
      if (answer.status) {
        const msg = answer.error ?? 'llama runner process has terminated: exit status 2';
        return this.send(
          res,
          answer.status,
          oa ? { error: { message: msg, type: 'api_error' } } : { error: msg },
        );
      }
      this.loaded.add(norm(model));
      const content = answer.content ?? '';
      const evalCount =
        answer.evalCount ?? Math.max(1, content.split(/\s+/).filter(Boolean).length);
      const stats = {
        total_duration: (answer.evalDurationNs ?? evalCount * 20_000_000) + 250_000_000,
        load_duration: answer.loadDurationNs ?? 1_350_000,
        prompt_eval_count: 26,
        prompt_eval_duration: 130_000_000,
        eval_count: evalCount,
        eval_duration: answer.evalDurationNs ?? evalCount * 20_000_000,
      };
      const created_at = new Date().toISOString();
      const pieces = content.match(/\S+\s*|\s+/g) ?? [];
      const stream = body.stream !== false && !oa ? true : body.stream === true;
      if (oa) return this.completeOpenAi(res, model, answer, content, pieces, stats, stream);
      const isChat = path === '/api/chat';
      const calls = answer.toolCalls?.map((c) => ({
        function: { name: c.name, arguments: c.arguments },
      }));
      const final = {
        model,
        created_at,
        ...(isChat
          ? {
              message: {
                role: 'assistant',
                content: stream ? '' : content,
                ...(calls && !stream ? { tool_calls: calls } : {}),
              },
            }
          : { response: stream ? '' : content }),
        done: true,
        done_reason: 'stop',
        ...(isChat ? {} : { context: [151644, 872, 198] }),
        ...stats,
      };
      if (!stream) return this.send(res, 200, final);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      let sent = 0;
      for (const p of pieces) {
        if (answer.breakAfterChunks !== undefined && sent >= answer.breakAfterChunks)
          return res.destroy();
        res.write(
          `${JSON.stringify({ model, created_at, ...(isChat ? { message: { role: 'assistant', content: p } } : { response: p }), done: false })}\n`,
        );
        sent++;
        await new Promise((r) => setImmediate(r));
      }
      // Ollama sends tool calls whole, in one chunk before the final one.
      if (calls && isChat)
        res.write(
          `${JSON.stringify({ model, created_at, message: { role: 'assistant', content: '', tool_calls: calls }, done: false })}\n`,
        );
      res.end(`${JSON.stringify(final)}\n`);
    } finally {
      leave();
    }
  }

  private completeOpenAi(
    res: ServerResponse,
    model: string,
    answer: ScriptedAnswer,
    content: string,
    pieces: string[],
    stats: { eval_count: number; prompt_eval_count: number },
    stream: boolean,
  ) {
    const id = `chatcmpl-${Math.floor(Math.random() * 1000)}`;
    const created = Math.floor(Date.now() / 1000);
    const calls = answer.toolCalls?.map((c, i) => ({
      id: `call_${i}`,
      index: i,
      type: 'function',
      function: { name: c.name, arguments: JSON.stringify(c.arguments) },
    }));
    const finish = calls ? 'tool_calls' : 'stop';
    const usage = {
      prompt_tokens: stats.prompt_eval_count,
      completion_tokens: stats.eval_count,
      total_tokens: stats.prompt_eval_count + stats.eval_count,
    };
    if (!stream)
      return this.send(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_ollama',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content,
              ...(calls ? { tool_calls: calls.map(({ index: _i, ...c }) => c) } : {}),
            },
            finish_reason: finish,
          },
        ],
        usage,
      });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = (delta: unknown, finish_reason: string | null, extra: object = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_ollama', choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`,
      );
    let sent = 0;
    for (const p of pieces) {
      if (answer.breakAfterChunks !== undefined && sent++ >= answer.breakAfterChunks)
        return res.destroy();
      event({ role: 'assistant', content: p }, null);
    }
    if (calls) {
      // Arguments arrive in fragments, as vLLM and llama.cpp send them.
      for (const c of calls) {
        const half = Math.floor(c.function.arguments.length / 2);
        event(
          {
            tool_calls: [
              {
                index: c.index,
                id: c.id,
                type: 'function',
                function: { name: c.function.name, arguments: c.function.arguments.slice(0, half) },
              },
            ],
          },
          null,
        );
        event(
          {
            tool_calls: [
              { index: c.index, function: { arguments: c.function.arguments.slice(half) } },
            ],
          },
          null,
        );
      }
    }
    event({}, finish);
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  }
}
