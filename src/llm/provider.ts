// The LlmProvider port: what Warden needs from a model server. Two adapters
// implement it (Ollama's native API, the OpenAI-compatible API) and both
// pass one contract suite (test/llm-provider-contract.ts). Adapters only
// translate; timeouts, retries, queueing and the breaker live in the gateway.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export type ToolCall = {
  /** Set by OpenAI-compatible servers; Ollama has none. */
  id?: string;
  name: string;
  arguments: Record<string, unknown>;
};

export type ChatMessage = {
  role: Role;
  content: string;
  /** Base64 images, for the vision role. */
  images?: string[];
  toolCalls?: ToolCall[];
  /** For role 'tool': the tool this message answers. */
  toolName?: string;
  toolCallId?: string;
};

export type ToolDefinition = {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
};

/** Tools as Ollama's and the OpenAI API's request bodies both take them (omitted when none). */
export function toolsBody(tools: readonly ToolDefinition[] | undefined) {
  if (!tools?.length) return {};
  return {
    tools: tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    })),
  };
}

export type CallOptions = {
  /** Cancels the request; the adapter aborts the HTTP call. */
  signal?: AbortSignal;
  /** Whole-request limit in ms for this call; the gateway applies it. @default LLM_TIMEOUT_MS */
  timeoutMs?: number;
};

export type SamplingOptions = {
  temperature?: number;
  /** Most tokens to generate. */
  maxTokens?: number;
  seed?: number;
};

export type ChatRequest = CallOptions &
  SamplingOptions & {
    model: string;
    messages: ChatMessage[];
    tools?: ToolDefinition[];
    /** 'json' for any JSON object, or a JSON Schema the answer must follow. */
    format?: 'json' | Record<string, unknown>;
  };

export type Usage = {
  promptTokens: number;
  completionTokens: number;
  /** Nanoseconds, as Ollama reports them; undefined when the server does not say. */
  totalDurationNs?: number;
  loadDurationNs?: number;
  promptEvalDurationNs?: number;
  evalDurationNs?: number;
};

export type ChatResponse = {
  model: string;
  message: ChatMessage & { role: 'assistant' };
  /** 'stop', 'length', 'tool_calls'... as the server said it. */
  doneReason: string;
  usage: Usage;
};

export type ChatChunk =
  { type: 'delta'; content: string } | { type: 'done'; response: ChatResponse };

export type GenerateRequest = CallOptions &
  SamplingOptions & {
    model: string;
    prompt: string;
    system?: string;
    format?: 'json' | Record<string, unknown>;
  };

export type GenerateResponse = {
  model: string;
  text: string;
  doneReason: string;
  usage: Usage;
};

export type EmbedRequest = CallOptions & { model: string; input: string[] };

export type EmbedResponse = { model: string; embeddings: number[][]; usage: Usage };

export type ModelInfo = {
  name: string;
  /** Bytes on disk; undefined when the server does not say. */
  size?: number;
  digest?: string;
  modifiedAt?: string;
  family?: string;
  parameterSize?: string;
  quantization?: string;
};

export type RunningModel = { name: string; sizeVram?: number; expiresAt?: string };

/** One line of a pull: a status, and for a layer its digest and bytes. */
export type PullProgress = {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
};

export type PullRequest = CallOptions & {
  model: string;
  onProgress?: (p: PullProgress) => void;
};

export type ProviderInfo = {
  kind: 'ollama' | 'openai';
  url: string;
  version?: string;
};

export interface LlmProvider {
  readonly kind: 'ollama' | 'openai';
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** Streams content deltas; the last chunk is 'done' with the whole answer. */
  chatStream(request: ChatRequest): AsyncIterable<ChatChunk>;
  generate(request: GenerateRequest): Promise<GenerateResponse>;
  embed(request: EmbedRequest): Promise<EmbedResponse>;
  listModels(options?: CallOptions): Promise<ModelInfo[]>;
  /** Models loaded in memory now; [] when the server cannot tell. */
  runningModels(options?: CallOptions): Promise<RunningModel[]>;
  /** Downloads a model; servers that cannot pull throw 'llm_pull_unsupported'. */
  pull(request: PullRequest): Promise<void>;
  /** Version and reachability; throws when the server does not answer. */
  info(options?: CallOptions): Promise<ProviderInfo>;
}

/** Model names compare without the default ':latest' tag. */
export function sameModel(a: string, b: string): boolean {
  const norm = (s: string) => (s.includes(':') ? s : `${s}:latest`);
  return norm(a) === norm(b);
}
