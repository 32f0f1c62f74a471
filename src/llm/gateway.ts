// The LLM gateway: every model call in Warden goes through here. It wraps an
// LlmProvider with a whole-request timeout and the caller's AbortSignal,
// retries with backoff on connection errors and 503, a per-model queue, a
// circuit breaker, and metrics. It is itself an LlmProvider, so structured
// output and consensus work the same over it or over a bare adapter.
import { maskUrl } from '../config/mask.ts';
import { isOperationalError, isUserError, OperationalError } from '../errors.ts';
import type { CircuitSnapshot } from './circuit-breaker.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { isRetryable } from './errors.ts';
import { LlmMetrics } from './metrics.ts';
import type { ModelRole, ModelRoles } from './model-roles.ts';
import { ModelLimiter } from './model-limiter.ts';
import type {
  CallOptions,
  ChatChunk,
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
  Usage,
} from './provider.ts';

export type LlmGatewayOptions = {
  roles: ModelRoles;
  /** Whole-request limit in ms, queueing and retries included; 0 for none. @default 120000 */
  timeoutMs?: number;
  /** Limit for short calls (list, version) in ms. @default 5000 */
  shortTimeoutMs?: number;
  /** Retries after a connection error or 503. @default 2 */
  retries?: number;
  /** First backoff in ms; doubles each retry, with jitter. @default 250 */
  backoffMs?: number;
  /** Requests in flight per model. @default 1 */
  concurrencyPerModel?: number;
  breaker?: CircuitBreaker;
};

export type GatewayHealth = {
  ok: boolean;
  url: string;
  kind: string;
  version?: string;
  circuit: CircuitSnapshot;
  detail?: string;
};

/** Role or model: `{ role: 'validator' }` or `{ model: 'phi3:mini' }`. */
export type ModelRef = { role: ModelRole; model?: never } | { model: string; role?: never };

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function codeOf(err: unknown): string {
  if (isOperationalError(err) || isUserError(err)) return err.code;
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  return 'error';
}

export class LlmGateway implements LlmProvider {
  readonly kind: 'ollama' | 'openai';
  readonly metrics = new LlmMetrics();
  readonly breaker: CircuitBreaker;
  readonly limiter: ModelLimiter;
  readonly roles: ModelRoles;
  private readonly timeoutMs: number;
  private readonly shortTimeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(
    readonly provider: LlmProvider & { readonly url: string },
    options: LlmGatewayOptions,
  ) {
    this.kind = provider.kind;
    this.roles = options.roles;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.shortTimeoutMs = options.shortTimeoutMs ?? 5_000;
    this.retries = options.retries ?? 2;
    this.backoffMs = options.backoffMs ?? 250;
    this.limiter = new ModelLimiter(options.concurrencyPerModel ?? 1);
    this.breaker = options.breaker ?? new CircuitBreaker();
  }

  /** The server's URL as it may be shown: credentials masked. */
  get url(): string {
    return maskUrl(this.provider.url);
  }

  modelFor(ref: ModelRef | ModelRole): string {
    if (typeof ref === 'string') return this.roles[ref];
    return ref.model ?? this.roles[ref.role];
  }

  /**
   * Runs one model call with the whole policy. `fn` gets a signal that
   * fires on the caller's abort or the timeout, whichever comes first.
   */
  private async run<T>(
    model: string,
    callerSignal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    usageOf: (r: T) => Usage | undefined,
    opts: {
      timeoutMs?: number;
      limit?: boolean;
      retry?: boolean;
      /** When a stream's first chunk arrived (performance.now()), for the time to first token. */
      firstChunkAt?: () => number | undefined;
    } = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timer = new AbortController();
    const t =
      timeoutMs > 0
        ? setTimeout(
            () =>
              timer.abort(
                new OperationalError(
                  'llm_timeout',
                  `The model server at ${this.url} did not answer for ${model} within ${timeoutMs} ms (LLM_TIMEOUT_MS)`,
                  { details: { model, timeoutMs } },
                ),
              ),
            timeoutMs,
          )
        : undefined;
    const signal = callerSignal ? AbortSignal.any([callerSignal, timer.signal]) : timer.signal;
    const started = performance.now();
    let release: (() => void) | undefined;
    let queueMs = 0;
    let atServer = false;
    try {
      try {
        // An open circuit refuses here; a refusal is not a new failure of the server.
        this.breaker.admit(this.url);
      } catch (err) {
        this.metrics.failure(model, 0, codeOf(err));
        throw err;
      }
      try {
        if (opts.limit !== false) {
          release = await this.limiter.acquire(model, signal);
          queueMs = performance.now() - started;
        }
        atServer = true;
        for (let attempt = 0; ; attempt++) {
          try {
            const result = await fn(signal);
            this.breaker.success();
            const firstAt = opts.firstChunkAt?.();
            this.metrics.success(
              model,
              performance.now() - started - queueMs,
              queueMs,
              usageOf(result),
              firstAt === undefined ? {} : { firstTokenMs: firstAt - started - queueMs },
            );
            return result;
          } catch (err) {
            if (
              signal.aborted ||
              !isRetryable(err) ||
              attempt >= (opts.retry === false ? 0 : this.retries)
            )
              throw err;
            const delay = this.backoffMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
            await sleep(delay, signal);
          }
        }
      } catch (err) {
        const final =
          signal.aborted && !callerSignal?.aborted ? (timer.signal.reason as unknown) : err;
        // Only the server's failures move the breaker: not bad input, not the
        // caller's own abort, not a timeout spent waiting in Warden's queue.
        if (isOperationalError(final) && atServer) this.breaker.failure(final);
        else this.breaker.release();
        this.metrics.failure(model, performance.now() - started, codeOf(final));
        throw final;
      }
    } finally {
      clearTimeout(t);
      release?.();
    }
  }

  chat(r: ChatRequest): Promise<ChatResponse> {
    return this.run(
      r.model,
      r.signal,
      (signal) => this.provider.chat({ ...r, signal }),
      (x) => x.usage,
      { timeoutMs: r.timeoutMs },
    );
  }

  /**
   * Streams through the same policy. Retries happen only before the first
   * chunk: a half-delivered answer is never replayed.
   */
  async *chatStream(r: ChatRequest): AsyncGenerator<ChatChunk> {
    const chunks: ChatChunk[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let started = false;
    let firstChunkAt: number | undefined;
    // A consumer that stops reading early cancels the request and frees the model's slot.
    const stop = new AbortController();
    const callerSignal = r.signal ? AbortSignal.any([r.signal, stop.signal]) : stop.signal;
    const done = this.run(
      r.model,
      callerSignal,
      async (signal) => {
        let final: ChatResponse | undefined;
        try {
          for await (const c of this.provider.chatStream({ ...r, signal })) {
            firstChunkAt ??= performance.now();
            started = true;
            chunks.push(c);
            wake?.();
            if (c.type === 'done') final = c.response;
          }
        } catch (err) {
          // Part of the answer is already out: a retry would repeat it.
          if (started && !signal.aborted)
            throw new OperationalError(
              'llm_stream_broken',
              `The answer stream from ${this.url} broke: ${(err as Error).message}`,
              { cause: err, details: { model: r.model } },
            );
          throw err;
        }
        return final;
      },
      (x) => x?.usage,
      { timeoutMs: r.timeoutMs, firstChunkAt: () => firstChunkAt },
    ).then(
      () => {
        finished = true;
        wake?.();
      },
      (err: unknown) => {
        failure = err;
        finished = true;
        wake?.();
      },
    );
    try {
      while (true) {
        const c = chunks.shift();
        if (c) {
          yield c;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      if (!finished) stop.abort(new Error('the caller stopped reading the stream'));
      await done;
    }
    if (failure) throw failure;
  }

  generate(r: GenerateRequest): Promise<GenerateResponse> {
    return this.run(
      r.model,
      r.signal,
      (signal) => this.provider.generate({ ...r, signal }),
      (x) => x.usage,
      { timeoutMs: r.timeoutMs },
    );
  }

  embed(r: EmbedRequest): Promise<EmbedResponse> {
    return this.run(
      r.model,
      r.signal,
      (signal) => this.provider.embed({ ...r, signal }),
      (x) => x.usage,
      { timeoutMs: r.timeoutMs },
    );
  }

  listModels(o: CallOptions = {}): Promise<ModelInfo[]> {
    return this.run(
      '(server)',
      o.signal,
      (signal) => this.provider.listModels({ signal }),
      () => undefined,
      {
        timeoutMs: this.shortTimeoutMs,
        limit: false,
      },
    );
  }

  runningModels(o: CallOptions = {}): Promise<RunningModel[]> {
    return this.run(
      '(server)',
      o.signal,
      (signal) => this.provider.runningModels({ signal }),
      () => undefined,
      {
        timeoutMs: this.shortTimeoutMs,
        limit: false,
      },
    );
  }

  /** Pulls take minutes: no timeout but the caller's, no queue, no retry of a half-done pull. */
  pull(r: PullRequest): Promise<void> {
    return this.run(
      r.model,
      r.signal,
      (signal) => this.provider.pull({ ...r, signal }),
      () => undefined,
      {
        timeoutMs: 0,
        limit: false,
        retry: false,
      },
    );
  }

  info(o: CallOptions = {}): Promise<ProviderInfo> {
    return this.run(
      '(server)',
      o.signal,
      (signal) => this.provider.info({ signal }),
      () => undefined,
      {
        timeoutMs: this.shortTimeoutMs,
        limit: false,
        retry: false,
      },
    );
  }

  /** For /readyz: reachable or not, and the breaker's state. Never throws. */
  async health(timeoutMs = 1500): Promise<GatewayHealth> {
    const base = { url: this.url, kind: this.kind };
    try {
      const i = await this.info({ signal: AbortSignal.timeout(timeoutMs) });
      return { ok: true, ...base, version: i.version, circuit: this.breaker.snapshot() };
    } catch (err) {
      return {
        ok: false,
        ...base,
        circuit: this.breaker.snapshot(),
        detail: err instanceof Error ? err.message : String(err),
      };
    }
  }
}
