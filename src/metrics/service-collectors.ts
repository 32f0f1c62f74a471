// Instruments for the work a process does itself: executions and node steps
// it ran, model calls it made (by role and model), embeddings, memory
// searches and the auto-healing outcomes. They count in the process that did
// the work, so in queue mode outcomes come from the worker that ran them and
// Prometheus sums them once across main and workers.
import type { Engine } from '../engine/engine.ts';
import type { ExecutionObserver } from '../engine/executor.ts';
import type { HealingOutcome } from '../healing/healing-service.ts';
import type { LlmMetrics, ModelCall } from '../llm/metrics.ts';
import type { ModelRoles } from '../llm/model-roles.ts';
import type { Embedder } from '../memory/embedder.ts';
import type { VectorStore } from '../memory/vector-store.ts';
import type { MetricsRegistry } from './registry.ts';
import { secondsBuckets } from './registry.ts';

export function executionObserver(m: MetricsRegistry): Required<ExecutionObserver> {
  const ended = m.counter({
    name: 'warden_executions_ended_total',
    help: 'Executions this process ended, by final status; the success rate is the rate of status="succeeded" over the rate of all.',
    labelNames: ['status'],
  });
  const duration = m.histogram({
    name: 'warden_execution_duration_seconds',
    help: 'Executions this process ended, by workflow name and final status: seconds from the first start to the end.',
    labelNames: ['workflow', 'status'],
    buckets: [...secondsBuckets, 600, 1800, 3600],
  });
  const steps = m.histogram({
    name: 'warden_node_step_duration_seconds',
    help: 'Node steps this process ran, by node type and outcome, retries included.',
    labelNames: ['type', 'status'],
    buckets: [...secondsBuckets],
  });
  return {
    executionEnded(e) {
      ended.inc({ status: e.status });
      duration.observe({ workflow: e.workflow, status: e.status }, e.seconds);
    },
    stepEnded(e) {
      steps.observe({ type: e.nodeType, status: e.status }, e.seconds);
    },
  };
}

/** Executions this process is running now (0 where no worker runs). */
export function registerWorkerMetrics(m: MetricsRegistry, engine: Engine): void {
  m.gaugeFrom(
    {
      name: 'warden_executions_in_flight',
      help: 'Executions this process is running now.',
    },
    (g) => g.set(engine.executor.inFlight),
  );
}

/** The role a model serves in, for the `role` label: the first role configured with it, else "other". */
export function roleOf(roles: ModelRoles, model: string): string {
  for (const [role, name] of Object.entries(roles)) if (name === model) return role;
  return 'other';
}

const serverCalls = '(server)';

/** Prometheus instruments fed by every call through the LLM gateway. */
export function registerLlmMetrics(m: MetricsRegistry, llm: LlmMetrics, roles: ModelRoles): void {
  const labelNames = ['role', 'model'] as const;
  const requests = m.counter({
    name: 'warden_llm_requests_total',
    help: 'Requests to the model server through the gateway, by role and model.',
    labelNames,
  });
  const errors = m.counter({
    name: 'warden_llm_errors_total',
    help: 'Failed model requests by role, model and error code (llm_timeout, llm_unavailable, ...).',
    labelNames: [...labelNames, 'code'],
  });
  const latency = m.histogram({
    name: 'warden_llm_request_duration_seconds',
    help: "Model requests by role, model and outcome (ok, error): seconds at the server, the wait for the model's slot excluded.",
    labelNames: [...labelNames, 'outcome'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
  });
  const queue = m.histogram({
    name: 'warden_llm_queue_wait_seconds',
    help: "Seconds requests waited for a slot of the model's concurrency limit, by role and model.",
    labelNames,
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 120],
  });
  const firstToken = m.histogram({
    name: 'warden_llm_time_to_first_token_seconds',
    help: "Seconds until the first token, by role and model: measured on streams, else the server's model load plus prompt evaluation.",
    labelNames,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
  });
  const speed = m.histogram({
    name: 'warden_llm_generation_tokens_per_second',
    help: "Generation speed of each answer, by role and model: generated tokens over the server's eval time.",
    labelNames,
    buckets: [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 250],
  });
  const tokens = m.counter({
    name: 'warden_llm_tokens_total',
    help: 'Tokens by role, model and kind (prompt, generated).',
    labelNames: [...labelNames, 'kind'],
  });
  const evalSeconds = m.counter({
    name: 'warden_llm_eval_seconds_total',
    help: 'The server\'s generation (eval) time, by role and model: rate(warden_llm_tokens_total{kind="generated"}) over its rate is tokens/s.',
    labelNames,
  });
  const loads = m.counter({
    name: 'warden_llm_model_loads_total',
    help: 'Times the server loaded the model into memory for a request (load above 10 ms).',
    labelNames,
  });
  m.gaugeFrom(
    {
      name: 'warden_llm_tokens_per_second',
      help: "Mean generation speed of this process's answers since it started, by model (eval_count / eval_duration).",
      labelNames: ['model'],
    },
    (g) => {
      for (const s of llm.snapshot())
        if (s.tokensPerSecond !== undefined) g.set({ model: s.model }, s.tokensPerSecond);
    },
  );
  llm.onCall((call: ModelCall) => {
    // The server's own health probe (version, list) is no model call.
    if (call.model === serverCalls) return;
    const l = { role: roleOf(roles, call.model), model: call.model };
    requests.inc(l);
    latency.observe({ ...l, outcome: call.error ? 'error' : 'ok' }, call.seconds);
    if (call.error) {
      errors.inc({ ...l, code: call.error });
      return;
    }
    queue.observe(l, call.queueSeconds);
    if (call.firstTokenSeconds !== undefined) firstToken.observe(l, call.firstTokenSeconds);
    const u = call.usage;
    if (!u) return;
    tokens.inc({ ...l, kind: 'prompt' }, u.promptTokens);
    tokens.inc({ ...l, kind: 'generated' }, u.completionTokens);
    if (u.evalDurationNs && u.evalDurationNs > 0) {
      evalSeconds.inc(l, u.evalDurationNs / 1e9);
      speed.observe(l, u.completionTokens / (u.evalDurationNs / 1e9));
    }
    if (u.loadDurationNs && u.loadDurationNs > 10_000_000) loads.inc(l);
  });
}

/** An Embedder that times each call into warden_embedding_duration_seconds. */
export function instrumentEmbedder(m: MetricsRegistry, embedder: Embedder): Embedder {
  const h = m.histogram({
    name: 'warden_embedding_duration_seconds',
    help: 'Embedding calls by embedder, kind (documents, query) and outcome.',
    labelNames: ['embedder', 'kind', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const timed = async <T>(kind: string, run: () => Promise<T>): Promise<T> => {
    const end = h.startTimer({ embedder: embedder.id, kind });
    try {
      const out = await run();
      end({ outcome: 'ok' });
      return out;
    } catch (err) {
      end({ outcome: 'error' });
      throw err;
    }
  };
  return {
    get id() {
      return embedder.id;
    },
    get dimension() {
      return embedder.dimension;
    },
    embedDocuments: (texts, options) =>
      timed('documents', () => embedder.embedDocuments(texts, options)),
    embedQuery: (text, options) => timed('query', () => embedder.embedQuery(text, options)),
  };
}

/** A VectorStore whose searches are timed into warden_memory_search_duration_seconds. */
export function instrumentVectorStore(m: MetricsRegistry, store: VectorStore): VectorStore {
  const h = m.histogram({
    name: 'warden_memory_search_duration_seconds',
    help: 'Vector searches of incident memory by store and outcome.',
    labelNames: ['store', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const search: VectorStore['search'] = async (name, request) => {
    const end = h.startTimer({ store: store.kind });
    try {
      const hits = await store.search(name, request);
      end({ outcome: 'ok' });
      return hits;
    } catch (err) {
      end({ outcome: 'error' });
      throw err;
    }
  };
  return {
    kind: store.kind,
    ensureCollection: (spec) => store.ensureCollection(spec),
    info: (name) => store.info(name),
    upsert: (name, points) => store.upsert(name, points),
    delete: (name, ids) => store.delete(name, ids),
    search,
    dropCollection: (name) => store.dropCollection(name),
    ...(store.close ? { close: () => store.close!() } : {}),
  };
}

/** Counts and times how the healing pipeline ended incidents; known_fix is the path without the model. */
export function healingOutcomeObserver(
  m: MetricsRegistry,
): (o: { outcome: HealingOutcome; seconds: number }) => void {
  const outcomes = m.counter({
    name: 'warden_heal_outcomes_total',
    help: 'Incidents the auto-heal pipeline ended, by outcome: known_fix (a remembered fix, no model), diagnosed, approved, escalated.',
    labelNames: ['outcome'],
  });
  const duration = m.histogram({
    name: 'warden_heal_duration_seconds',
    help: 'Seconds from an incident opening to the pipeline resolving or escalating it, by outcome.',
    labelNames: ['outcome'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600],
  });
  for (const outcome of ['known_fix', 'diagnosed', 'approved', 'escalated']) {
    outcomes.inc({ outcome }, 0);
  }
  return ({ outcome, seconds }) => {
    outcomes.inc({ outcome });
    duration.observe({ outcome }, seconds);
  };
}
