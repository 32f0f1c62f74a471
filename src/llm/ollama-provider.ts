// Adapter for Ollama's native API (/api/chat, /api/generate, /api/embed,
// /api/tags, /api/ps, /api/pull, /api/version). Streams are NDJSON; tool call
// arguments are objects; durations are nanoseconds.
import { malformedAnswer } from './errors.ts';
import { HttpClient, readNdjson } from './http.ts';
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
  PullProgress,
  PullRequest,
  RunningModel,
  SamplingOptions,
  ToolCall,
  Usage,
} from './provider.ts';
import { toolsBody } from './provider.ts';

export type OllamaProviderOptions = {
  /** @default "http://127.0.0.1:11434" */
  url?: string;
  /** How long Ollama keeps a model loaded after a request, e.g. "5m". @default server's own */
  keepAlive?: string;
  /** Context window for each chat (Ollama's num_ctx). @default server's own */
  numCtx?: number;
};

type OllamaToolCall = { function: { name: string; arguments: Record<string, unknown> | string } };
type OllamaMessage = {
  role: string;
  content?: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
};
type OllamaStats = {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
};
type OllamaChatLine = OllamaStats & {
  model: string;
  message?: OllamaMessage;
  done: boolean;
  done_reason?: string;
};
type OllamaGenerateLine = OllamaStats & {
  model: string;
  response: string;
  done: boolean;
  done_reason?: string;
};

function usageOf(s: OllamaStats): Usage {
  return {
    promptTokens: s.prompt_eval_count ?? 0,
    completionTokens: s.eval_count ?? 0,
    totalDurationNs: s.total_duration,
    loadDurationNs: s.load_duration,
    promptEvalDurationNs: s.prompt_eval_duration,
    evalDurationNs: s.eval_duration,
  };
}

function options(r: SamplingOptions, numCtx: number | undefined) {
  const o: Record<string, number> = {};
  if (numCtx !== undefined) o.num_ctx = numCtx;
  if (r.temperature !== undefined) o.temperature = r.temperature;
  if (r.maxTokens !== undefined) o.num_predict = r.maxTokens;
  if (r.seed !== undefined) o.seed = r.seed;
  return Object.keys(o).length > 0 ? o : undefined;
}

function toOllamaMessage(m: ChatMessage): OllamaMessage {
  return {
    role: m.role,
    content: m.content,
    ...(m.images ? { images: m.images } : {}),
    ...(m.toolCalls
      ? {
          tool_calls: m.toolCalls.map((c) => ({
            function: { name: c.name, arguments: c.arguments },
          })),
        }
      : {}),
    ...(m.toolName ? { tool_name: m.toolName } : {}),
  };
}

function toolCallsOf(m: OllamaMessage | undefined): ToolCall[] | undefined {
  if (!m?.tool_calls?.length) return undefined;
  return m.tool_calls.map((c) => ({
    name: c.function.name,
    // Ollama sends objects; a few older builds sent a JSON string.
    arguments:
      typeof c.function.arguments === 'string'
        ? (JSON.parse(c.function.arguments) as Record<string, unknown>)
        : c.function.arguments,
  }));
}

export class OllamaProvider implements LlmProvider {
  readonly kind = 'ollama' as const;
  private readonly http: HttpClient;
  private readonly keepAlive: string | undefined;
  private readonly numCtx: number | undefined;

  constructor(options: OllamaProviderOptions = {}) {
    this.http = new HttpClient({ baseUrl: options.url ?? 'http://127.0.0.1:11434' });
    this.keepAlive = options.keepAlive;
    this.numCtx = options.numCtx;
  }

  get url(): string {
    return this.http.baseUrl;
  }

  private chatBody(r: ChatRequest, stream: boolean) {
    return {
      model: r.model,
      messages: r.messages.map(toOllamaMessage),
      ...toolsBody(r.tools),
      ...(r.format ? { format: r.format } : {}),
      ...(options(r, this.numCtx) ? { options: options(r, this.numCtx) } : {}),
      ...(this.keepAlive ? { keep_alive: this.keepAlive } : {}),
      stream,
    };
  }

  private toResponse(
    line: OllamaChatLine,
    content: string,
    calls: ToolCall[] | undefined,
  ): ChatResponse {
    return {
      model: line.model,
      message: { role: 'assistant', content, ...(calls ? { toolCalls: calls } : {}) },
      doneReason: line.done_reason ?? 'stop',
      usage: usageOf(line),
    };
  }

  async chat(r: ChatRequest): Promise<ChatResponse> {
    const line = await this.http.json<OllamaChatLine>(
      'POST',
      '/api/chat',
      this.chatBody(r, false),
      {
        signal: r.signal,
        model: r.model,
      },
    );
    if (!line.message) throw malformedAnswer({ url: this.url, model: r.model }, 'no message');
    return this.toResponse(line, line.message.content ?? '', toolCallsOf(line.message));
  }

  async *chatStream(r: ChatRequest): AsyncGenerator<ChatChunk> {
    const ctx = { url: this.url, model: r.model };
    const res = await this.http.send('POST', '/api/chat', this.chatBody(r, true), {
      signal: r.signal,
      model: r.model,
    });
    let content = '';
    let calls: ToolCall[] | undefined;
    for await (const line of readNdjson<OllamaChatLine>(res, ctx, r.signal)) {
      const piece = line.message?.content ?? '';
      const lineCalls = toolCallsOf(line.message);
      if (lineCalls) calls = [...(calls ?? []), ...lineCalls];
      if (piece) {
        content += piece;
        yield { type: 'delta', content: piece };
      }
      if (line.done) {
        yield { type: 'done', response: this.toResponse(line, content, calls) };
        return;
      }
    }
    throw malformedAnswer(ctx, 'the stream ended before done');
  }

  async generate(r: GenerateRequest): Promise<GenerateResponse> {
    const line = await this.http.json<OllamaGenerateLine>(
      'POST',
      '/api/generate',
      {
        model: r.model,
        prompt: r.prompt,
        ...(r.system ? { system: r.system } : {}),
        ...(r.format ? { format: r.format } : {}),
        ...(options(r, this.numCtx) ? { options: options(r, this.numCtx) } : {}),
        ...(this.keepAlive ? { keep_alive: this.keepAlive } : {}),
        stream: false,
      },
      { signal: r.signal, model: r.model },
    );
    return {
      model: line.model,
      text: line.response,
      doneReason: line.done_reason ?? 'stop',
      usage: usageOf(line),
    };
  }

  async embed(r: EmbedRequest): Promise<EmbedResponse> {
    const res = await this.http.json<OllamaStats & { model: string; embeddings: number[][] }>(
      'POST',
      '/api/embed',
      { model: r.model, input: r.input, truncate: true },
      { signal: r.signal, model: r.model },
    );
    if (!Array.isArray(res.embeddings) || res.embeddings.length !== r.input.length)
      throw malformedAnswer({ url: this.url, model: r.model }, 'embeddings missing or miscounted');
    return { model: res.model, embeddings: res.embeddings, usage: usageOf(res) };
  }

  async listModels(o: CallOptions = {}): Promise<ModelInfo[]> {
    type Tag = {
      name: string;
      model?: string;
      size?: number;
      digest?: string;
      modified_at?: string;
      details?: { family?: string; parameter_size?: string; quantization_level?: string };
    };
    const res = await this.http.json<{ models: Tag[] }>('GET', '/api/tags', undefined, o);
    return (res.models ?? []).map((m) => ({
      name: m.name,
      size: m.size,
      digest: m.digest,
      modifiedAt: m.modified_at,
      family: m.details?.family,
      parameterSize: m.details?.parameter_size,
      quantization: m.details?.quantization_level,
    }));
  }

  async runningModels(o: CallOptions = {}): Promise<RunningModel[]> {
    type Ps = { name: string; size_vram?: number; expires_at?: string };
    const res = await this.http.json<{ models: Ps[] }>('GET', '/api/ps', undefined, o);
    return (res.models ?? []).map((m) => ({
      name: m.name,
      sizeVram: m.size_vram,
      expiresAt: m.expires_at,
    }));
  }

  async pull(r: PullRequest): Promise<void> {
    const ctx = { url: this.url, model: r.model };
    const res = await this.http.send(
      'POST',
      '/api/pull',
      { model: r.model, stream: true },
      { signal: r.signal, model: r.model },
    );
    for await (const p of readNdjson<PullProgress>(res, ctx, r.signal)) {
      r.onProgress?.({
        status: p.status,
        ...(p.digest ? { digest: p.digest } : {}),
        ...(p.total !== undefined ? { total: p.total } : {}),
        ...(p.completed !== undefined ? { completed: p.completed } : {}),
      });
      if (p.status === 'success') return;
    }
    throw malformedAnswer(ctx, 'the pull ended without success');
  }

  async info(o: CallOptions = {}): Promise<ProviderInfo> {
    const res = await this.http.json<{ version: string }>('GET', '/api/version', undefined, o);
    return { kind: 'ollama', url: this.url, version: res.version };
  }
}
