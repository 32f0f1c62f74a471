// Per-model counters for the gateway: requests, errors, latency, tokens, and
// generation speed from Ollama's eval_count / eval_duration (nanoseconds).
// Each call is also told to the listeners (the Prometheus instruments of the
// process's registry), with its latency and time to first token.
import type { Usage } from './provider.ts';

/** One model call as it ended, for listeners that keep histograms. */
export type ModelCall = {
  model: string;
  /** Error code, or undefined when the call succeeded. */
  error?: string;
  /** Seconds at the server (or until the failure), queueing excluded. */
  seconds: number;
  /** Seconds waited for the model's concurrency slot. */
  queueSeconds: number;
  /** Seconds until the first token: measured on streams, else load plus prompt evaluation as the server reports them. */
  firstTokenSeconds?: number;
  usage?: Usage;
};

export type ModelCallListener = (call: ModelCall) => void;

export type ModelMetrics = {
  requests: number;
  errors: number;
  /** Errors by code (llm_timeout, llm_overloaded...). */
  errorsByCode: Record<string, number>;
  latencyMsTotal: number;
  latencyMsMax: number;
  queueMsTotal: number;
  promptTokens: number;
  completionTokens: number;
  /** Sum of eval_duration over answers that reported one, nanoseconds. */
  evalDurationNs: number;
  /** Generated tokens of the answers that reported an eval_duration. */
  evalTokens: number;
  loadDurationNs: number;
  loads: number;
};

export type ModelMetricsSnapshot = ModelMetrics & {
  model: string;
  latencyMsAvg: number;
  /** eval tokens per second of eval time; undefined until the server reports durations. */
  tokensPerSecond: number | undefined;
};

const empty = (): ModelMetrics => ({
  requests: 0,
  errors: 0,
  errorsByCode: {},
  latencyMsTotal: 0,
  latencyMsMax: 0,
  queueMsTotal: 0,
  promptTokens: 0,
  completionTokens: 0,
  evalDurationNs: 0,
  evalTokens: 0,
  loadDurationNs: 0,
  loads: 0,
});

/** Tokens per second from a token count and a duration in nanoseconds. */
export function tokensPerSecond(evalCount: number, evalDurationNs: number): number | undefined {
  return evalDurationNs > 0 ? (evalCount / evalDurationNs) * 1e9 : undefined;
}

export class LlmMetrics {
  private readonly byModel = new Map<string, ModelMetrics>();
  private readonly listeners: ModelCallListener[] = [];

  /** Tells `listener` about every call from now on. */
  onCall(listener: ModelCallListener): void {
    this.listeners.push(listener);
  }

  private tell(call: ModelCall): void {
    for (const l of this.listeners) l(call);
  }

  private of(model: string): ModelMetrics {
    let m = this.byModel.get(model);
    if (!m) this.byModel.set(model, (m = empty()));
    return m;
  }

  success(
    model: string,
    latencyMs: number,
    queueMs: number,
    usage: Usage | undefined,
    options: { firstTokenMs?: number } = {},
  ): void {
    const reported =
      usage?.promptEvalDurationNs !== undefined
        ? ((usage.loadDurationNs ?? 0) + usage.promptEvalDurationNs) / 1e9
        : undefined;
    this.tell({
      model,
      seconds: latencyMs / 1000,
      queueSeconds: queueMs / 1000,
      firstTokenSeconds:
        options.firstTokenMs !== undefined ? options.firstTokenMs / 1000 : reported,
      ...(usage ? { usage } : {}),
    });
    const m = this.of(model);
    m.requests++;
    m.latencyMsTotal += latencyMs;
    m.latencyMsMax = Math.max(m.latencyMsMax, latencyMs);
    m.queueMsTotal += queueMs;
    if (!usage) return;
    m.promptTokens += usage.promptTokens;
    m.completionTokens += usage.completionTokens;
    if (usage.evalDurationNs && usage.evalDurationNs > 0) {
      m.evalDurationNs += usage.evalDurationNs;
      m.evalTokens += usage.completionTokens;
    }
    // Ollama reports a few hundred µs of load_duration even when the model
    // was already loaded; count a real load only above 10 ms.
    if (usage.loadDurationNs) {
      m.loadDurationNs += usage.loadDurationNs;
      if (usage.loadDurationNs > 10_000_000) m.loads++;
    }
  }

  failure(model: string, latencyMs: number, code: string): void {
    this.tell({ model, error: code, seconds: latencyMs / 1000, queueSeconds: 0 });
    const m = this.of(model);
    m.requests++;
    m.errors++;
    m.errorsByCode[code] = (m.errorsByCode[code] ?? 0) + 1;
    m.latencyMsTotal += latencyMs;
    m.latencyMsMax = Math.max(m.latencyMsMax, latencyMs);
  }

  snapshot(): ModelMetricsSnapshot[] {
    return [...this.byModel].map(([model, m]) => ({
      model,
      ...m,
      errorsByCode: { ...m.errorsByCode },
      latencyMsAvg: m.requests ? m.latencyMsTotal / m.requests : 0,
      tokensPerSecond: tokensPerSecond(m.evalTokens, m.evalDurationNs),
    }));
  }
}
