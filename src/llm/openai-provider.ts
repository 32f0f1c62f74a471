// Adapter for the OpenAI-compatible API that llama.cpp's server, vLLM and
// LM Studio speak (/v1/chat/completions, /v1/embeddings, /v1/models). Tool
// call arguments arrive as JSON strings and streams as server-sent events.
// These servers cannot pull models or list loaded ones.
import { UserError } from '../errors.ts';
import { malformedAnswer } from './errors.ts';
import { HttpClient, readSse } from './http.ts';
import type {
  CallOptions,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  EmbedRequest,
  EmbedResponse,
  GenerateRequest,
  GenerateResponse,
  LlmProvider,
  ModelInfo,
  ProviderInfo,
  PullRequest,
  RunningModel,
  ToolCall,
  Usage,
} from './provider.ts';
import { toolsBody } from './provider.ts';

export type OpenAiProviderOptions = {
  /** Server URL, with or without the trailing /v1. */
  url: string;
  /** Sent as "Authorization: Bearer <key>". */
  apiKey?: string;
};

type OaToolCall = { id?: string; type?: 'function'; function: { name: string; arguments: string } };
type OaMessage = {
  role: string;
  content: string | null | Array<Record<string, unknown>>;
  tool_calls?: OaToolCall[];
  tool_call_id?: string;
};
type OaUsage = { prompt_tokens?: number; completion_tokens?: number };
/** llama.cpp's server adds its own timings in milliseconds. */
type LlamaCppTimings = { prompt_ms?: number; predicted_ms?: number };
type OaCompletion = {
  model: string;
  choices: Array<{ message: OaMessage; finish_reason: string | null }>;
  usage?: OaUsage;
  timings?: LlamaCppTimings;
};
type OaChunk = {
  model: string;
  choices: Array<{
    delta: {
      content?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        function?: { name?: string; arguments?: string };
      }>;
    };
    finish_reason: string | null;
  }>;
  usage?: OaUsage | null;
  timings?: LlamaCppTimings;
};

function usageOf(u: OaUsage | null | undefined, t: LlamaCppTimings | undefined): Usage {
  return {
    promptTokens: u?.prompt_tokens ?? 0,
    completionTokens: u?.completion_tokens ?? 0,
    ...(t?.prompt_ms !== undefined ? { promptEvalDurationNs: Math.round(t.prompt_ms * 1e6) } : {}),
    ...(t?.predicted_ms !== undefined ? { evalDurationNs: Math.round(t.predicted_ms * 1e6) } : {}),
  };
}

function toOaMessage(m: ChatMessage): OaMessage {
  const content: OaMessage['content'] = m.images?.length
    ? [
        { type: 'text', text: m.content },
        ...m.images.map((b64) => ({
          type: 'image_url',
          image_url: { url: `data:image/png;base64,${b64}` },
        })),
      ]
    : m.content;
  return {
    role: m.role,
    content,
    ...(m.toolCalls
      ? {
          tool_calls: m.toolCalls.map((c, i) => ({
            id: c.id ?? `call_${i}`,
            type: 'function' as const,
            function: { name: c.name, arguments: JSON.stringify(c.arguments) },
          })),
        }
      : {}),
    ...(m.role === 'tool' ? { tool_call_id: m.toolCallId ?? m.toolName ?? 'call_0' } : {}),
  };
}

function parseArgs(raw: string, ctx: { url: string; model: string }): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw malformedAnswer(ctx, `tool call arguments are not a JSON object: ${raw.slice(0, 120)}`);
}

export class OpenAiProvider implements LlmProvider {
  readonly kind = 'openai' as const;
  private readonly http: HttpClient;

  constructor(options: OpenAiProviderOptions) {
    this.http = new HttpClient({
      baseUrl: options.url.replace(/\/+$/, '').replace(/\/v1$/, ''),
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    });
  }

  get url(): string {
    return this.http.baseUrl;
  }

  private body(r: ChatRequest, stream: boolean) {
    return {
      model: r.model,
      messages: r.messages.map(toOaMessage),
      ...toolsBody(r.tools),
      ...(r.format === 'json'
        ? { response_format: { type: 'json_object' } }
        : r.format
          ? {
              response_format: {
                type: 'json_schema',
                json_schema: { name: 'answer', schema: r.format, strict: true },
              },
            }
          : {}),
      ...(r.temperature !== undefined ? { temperature: r.temperature } : {}),
      ...(r.maxTokens !== undefined ? { max_tokens: r.maxTokens } : {}),
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    };
  }

  async chat(r: ChatRequest): Promise<ChatResponse> {
    const ctx = { url: this.url, model: r.model };
    const res = await this.http.json<OaCompletion>(
      'POST',
      '/v1/chat/completions',
      this.body(r, false),
      {
        signal: r.signal,
        model: r.model,
      },
    );
    const choice = res.choices?.[0];
    if (!choice) throw malformedAnswer(ctx, 'no choices');
    const content = typeof choice.message.content === 'string' ? choice.message.content : '';
    const calls = choice.message.tool_calls?.map((c) => ({
      ...(c.id ? { id: c.id } : {}),
      name: c.function.name,
      arguments: parseArgs(c.function.arguments, ctx),
    }));
    return {
      model: res.model ?? r.model,
      message: { role: 'assistant', content, ...(calls?.length ? { toolCalls: calls } : {}) },
      doneReason: choice.finish_reason ?? 'stop',
      usage: usageOf(res.usage, res.timings),
    };
  }

  async *chatStream(r: ChatRequest): AsyncGenerator<ChatChunk> {
    const ctx = { url: this.url, model: r.model };
    const res = await this.http.send('POST', '/v1/chat/completions', this.body(r, true), {
      signal: r.signal,
      model: r.model,
    });
    let content = '';
    let model = r.model;
    let finish = 'stop';
    let usage: Usage = usageOf(undefined, undefined);
    const calls: Array<{ id?: string; name: string; args: string }> = [];
    let sawAny = false;
    for await (const chunk of readSse<OaChunk>(res, ctx, r.signal)) {
      sawAny = true;
      model = chunk.model ?? model;
      if (chunk.usage || chunk.timings) usage = usageOf(chunk.usage, chunk.timings);
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const d of choice.delta.tool_calls ?? []) {
        const slot = (calls[d.index] ??= { name: '', args: '' });
        if (d.id) slot.id = d.id;
        if (d.function?.name) slot.name += d.function.name;
        if (d.function?.arguments) slot.args += d.function.arguments;
      }
      const piece = choice.delta.content ?? '';
      if (piece) {
        content += piece;
        yield { type: 'delta', content: piece };
      }
    }
    if (!sawAny) throw malformedAnswer(ctx, 'the stream was empty');
    const toolCalls: ToolCall[] = calls.map((c) => ({
      ...(c.id ? { id: c.id } : {}),
      name: c.name,
      arguments: parseArgs(c.args, ctx),
    }));
    yield {
      type: 'done',
      response: {
        model,
        message: { role: 'assistant', content, ...(toolCalls.length ? { toolCalls } : {}) },
        doneReason: finish,
        usage,
      },
    };
  }

  /** The OpenAI dialect has no bare completion worth using: a one-turn chat does the same. */
  async generate(r: GenerateRequest): Promise<GenerateResponse> {
    const messages: ChatMessage[] = [
      ...(r.system ? [{ role: 'system' as const, content: r.system }] : []),
      { role: 'user', content: r.prompt },
    ];
    const res = await this.chat({ ...r, messages });
    return {
      model: res.model,
      text: res.message.content,
      doneReason: res.doneReason,
      usage: res.usage,
    };
  }

  async embed(r: EmbedRequest): Promise<EmbedResponse> {
    const res = await this.http.json<{
      model: string;
      data: Array<{ embedding: number[]; index: number }>;
      usage?: OaUsage;
    }>(
      'POST',
      '/v1/embeddings',
      { model: r.model, input: r.input },
      { signal: r.signal, model: r.model },
    );
    if (!Array.isArray(res.data) || res.data.length !== r.input.length)
      throw malformedAnswer({ url: this.url, model: r.model }, 'embeddings missing or miscounted');
    const sorted = [...res.data].sort((a, b) => a.index - b.index);
    return {
      model: res.model ?? r.model,
      embeddings: sorted.map((d) => d.embedding),
      usage: usageOf(res.usage, undefined),
    };
  }

  async listModels(o: CallOptions = {}): Promise<ModelInfo[]> {
    const res = await this.http.json<{ data: Array<{ id: string; created?: number }> }>(
      'GET',
      '/v1/models',
      undefined,
      o,
    );
    return (res.data ?? []).map((m) => ({
      name: m.id,
      ...(m.created ? { modifiedAt: new Date(m.created * 1000).toISOString() } : {}),
    }));
  }

  async runningModels(): Promise<RunningModel[]> {
    return [];
  }

  async pull(r: PullRequest): Promise<void> {
    throw new UserError(
      'llm_pull_unsupported',
      `An OpenAI-compatible server cannot download models; load "${r.model}" in the server itself (llama.cpp: -m, vLLM: --model, LM Studio: its model list)`,
    );
  }

  async info(o: CallOptions = {}): Promise<ProviderInfo> {
    await this.listModels(o);
    return { kind: 'openai', url: this.url };
  }
}
