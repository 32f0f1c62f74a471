// LLM gateway settings: where the model server is, which model plays each
// role, and how hard Warden leans on it (timeouts, retries, concurrency).
import { z } from 'zod';

import { domain, durationMs, setting } from './setting.ts';

const modelName = z.string().min(1);

export const llmDomain = domain('llm', 'LLM gateway: model server, model roles and reliability.', {
  provider: setting({
    env: 'LLM_PROVIDER',
    schema: z.enum(['ollama', 'openai']),
    default: 'ollama',
    doc: "API the model server speaks: 'ollama' (native) or 'openai' (OpenAI-compatible: llama.cpp server, vLLM, LM Studio).",
  }),
  url: setting({
    env: 'OLLAMA_URL',
    schema: z.string().url(),
    default: 'http://127.0.0.1:11434',
    doc: 'Base URL of the model server (for openai, with or without the /v1 suffix).',
  }),
  apiKey: setting({
    env: 'LLM_API_KEY',
    schema: z.string().min(1).optional(),
    secret: true,
    doc: 'Bearer token sent to an OpenAI-compatible server that wants one.',
  }),
  orchestratorModel: setting({
    env: 'LLM_MODEL_ORCHESTRATOR',
    schema: modelName,
    default: 'qwen2.5-coder:3b-instruct',
    doc: 'Model for the orchestrator role: tool calls and plans.',
  }),
  reasoningModel: setting({
    env: 'LLM_MODEL_REASONING',
    schema: modelName,
    default: 'mistral:7b',
    doc: 'Model for the reasoning role: diagnoses of unknown problems.',
  }),
  visionModel: setting({
    env: 'LLM_MODEL_VISION',
    schema: modelName,
    default: 'llava:7b',
    doc: 'Model for the vision role: screenshots and graphs.',
  }),
  embeddingModel: setting({
    env: 'LLM_MODEL_EMBEDDING',
    schema: modelName,
    default: 'nomic-embed-text',
    doc: 'Model for the embedding role (incident memory with MEMORY_EMBEDDER=ollama).',
  }),
  validatorModel: setting({
    env: 'LLM_MODEL_VALIDATOR',
    schema: modelName,
    default: 'phi3:mini',
    doc: 'Model for the validator role: the second opinion of the consensus check.',
  }),
  timeoutMs: setting({
    env: 'LLM_TIMEOUT_MS',
    schema: durationMs,
    default: 120_000,
    doc: 'Longest one model request may take, queueing included (0: no limit).',
  }),
  connectTimeoutMs: setting({
    env: 'LLM_CONNECT_TIMEOUT_MS',
    schema: durationMs,
    default: 5_000,
    doc: 'Longest wait for the first byte of an answer to a short request (list, version, health).',
  }),
  retries: setting({
    env: 'LLM_RETRIES',
    schema: z.coerce.number().int().min(0).max(10),
    default: 2,
    doc: 'Retries, with exponential backoff, after a connection error or a 503.',
  }),
  concurrencyPerModel: setting({
    env: 'LLM_CONCURRENCY_PER_MODEL',
    schema: z.coerce.number().int().min(1).max(64),
    default: 1,
    doc: 'Requests Warden sends at once to one model; the rest wait in line (Ollama serves one per model by default).',
  }),
  breakerFailures: setting({
    env: 'LLM_BREAKER_FAILURES',
    schema: z.coerce.number().int().min(1),
    default: 5,
    doc: 'Consecutive failed requests that open the circuit breaker.',
  }),
  breakerCooldownMs: setting({
    env: 'LLM_BREAKER_COOLDOWN_MS',
    schema: durationMs,
    default: 30_000,
    doc: 'How long an open circuit refuses requests before it lets one through to test the server.',
  }),
  numCtx: setting({
    env: 'OLLAMA_NUM_CTX',
    schema: z.coerce.number().int().min(512).max(1_048_576),
    default: 8192,
    doc: "Context window (tokens) Ollama gives each chat (num_ctx); Ollama's own default is small enough to cut long evidence off silently.",
  }),
  keepAlive: setting({
    env: 'OLLAMA_KEEP_ALIVE',
    schema: z
      .string()
      .regex(/^(-1|0|\d+(\.\d+)?(ms|s|m|h)?)$/, 'must be a duration such as 5m, 1h, 0 or -1')
      .optional(),
    doc: 'How long Ollama keeps a model loaded after a request (keep_alive: 5m, 1h; -1 forever). Unset: the server default.',
  }),
});
