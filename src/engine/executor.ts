// Runs one execution on this worker: claims it (a lease), walks the nodes in
// topological order from its trigger, records a step per node and ends it.
// Durability rules (docs/architecture.md, "Execution semantics"):
// - a resumed execution reuses the stored outputs of finished nodes;
// - a side-effecting node is recorded `started` before it runs and its
//   outcome right after; found `started` after a crash it is never re-run
//   blindly: its verify probe decides, else the execution needs attention;
// - steps of nodes without side effects are written with the next durable
//   write (a side-effecting step, a wait, the end): a crash re-runs them,
//   which is harmless since they change nothing.
import type { Logger } from '../log.ts';
import { isOperationalError, UserError } from '../errors.ts';
import type {
  Execution,
  ExecutionError,
  ExecutionStatus,
  ExecutionStore,
  NewExecution,
  StepWrite,
} from './execution-store.ts';
import { terminalStatuses } from './execution-store.ts';
import type { Item } from './expressions.ts';
import { evaluateParameter, ExpressionError } from './expressions.ts';
import type {
  ExecutionInfo,
  NodeContext,
  NodeEnvironment,
  NodeRegistry,
  NodeResult,
  NodeType,
} from './node-types.ts';
import { hasSideEffects } from './node-types.ts';
import type { WebhookResponse } from './node-types.ts';
import type { WorkflowDefinition, WorkflowNode } from './workflow-model.ts';
import { edgesOf, topologicalOrder } from './workflow-model.ts';
import type { WorkflowStore } from './workflow-store.ts';

export type AbortKind = 'canceled' | 'timeout' | 'shutdown' | 'lease_lost';

class Aborted extends Error {
  constructor(readonly kind: AbortKind) {
    super(`execution ${kind}`);
  }
}

export type ExecutorOptions = {
  store: ExecutionStore;
  workflows: WorkflowStore;
  registry: NodeRegistry;
  logger: Logger;
  /** This process's lease owner name. */
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  stepDataMaxBytes: number;
  defaultTimeoutMs: number;
  env: Record<string, string>;
  nodeEnv: Omit<NodeEnvironment, 'runSubWorkflow'>;
  /** Modes of the concurrency group (healing runs), if there is one. */
  groupModes?: readonly string[];
  /** Called when an execution of the group stopped running here: a slot is free. */
  onGroupSlotFree?(): void;
  /** Called when an execution goes to sleep (wait node) or is given back (shutdown). */
  requeue(executionId: string, delayMs: number): void;
  /** Called after an execution failed; starts its error workflow. */
  onFailed?(execution: Execution, def: WorkflowDefinition, error: ExecutionError): Promise<void>;
  /** Told of each execution this process ends and each node it runs (metrics). */
  observer?: ExecutionObserver;
  /**
   * Called after an execution stopped as needs_attention (a side effect whose
   * outcome is unknown): a person must look, so it must be heard.
   */
  onNeedsAttention?(
    execution: Execution,
    def: WorkflowDefinition | undefined,
    error: ExecutionError,
  ): Promise<void>;
};

export type ExecutionObserver = {
  /** `seconds` runs from the execution's first start, resumptions included. */
  executionEnded?(e: { workflow: string; status: string; seconds: number }): void;
  stepEnded?(e: { nodeType: string; status: 'succeeded' | 'failed'; seconds: number }): void;
};

export type RunOutcome = 'claimed' | 'not_claimed';

type Outcome =
  | { ok: true; result: NodeResult; attempts: number }
  | { ok: false; error: ExecutionError; attempts: number };

const maxDepth = 10;

/** The mode of a test run from the editor: the one that uses pinned data. */
export const testMode = 'test';

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function toExecutionError(err: unknown, node?: string): ExecutionError {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'node_failed',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(node ? { node } : {}),
  };
}

/** Caps stored JSON: values larger than max are replaced by a preview. */
export function capJson(value: unknown, max: number): { value: unknown; truncated: boolean } {
  const text = JSON.stringify(value ?? null);
  if (text.length <= max / 4 || Buffer.byteLength(text) <= max) return { value, truncated: false };
  return {
    value: { truncated: true, bytes: Buffer.byteLength(text), preview: text.slice(0, 1000) },
    truncated: true,
  };
}

export class Executor {
  private readonly running = new Map<string, AbortController>();
  /** Runs in memory whose row is not written yet (see runInMemory). */
  readonly unrecorded = new Set<string>();
  /** Executions this process ended, by final status (for /metrics). */
  readonly ended: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ExecutorOptions) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** Starts the heartbeat that renews this worker's leases and picks up cancellations. */
  start(): void {
    this.timer ??= setInterval(() => void this.heartbeat(), this.o.heartbeatMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  abortAll(kind: AbortKind): void {
    for (const c of this.running.values()) c.abort(new Aborted(kind));
  }

  /**
   * Renews the leases of the executions running here now, and only those.
   * The ids are taken before the renewal: an execution claimed while it is
   * in flight is not judged by a statement that could not see its claim.
   * An id the renewal did not return is declared lost only after a fresh
   * read says another worker holds it or it has ended.
   */
  async heartbeat(): Promise<void> {
    // A run not recorded yet has no row and no lease to renew.
    const ids = [...this.running.keys()].filter((id) => !this.unrecorded.has(id));
    if (ids.length === 0) return;
    try {
      const held = await this.o.store.renewLeases(this.o.workerId, ids, this.o.leaseMs);
      const byId = new Map(held.map((h) => [h.id, h]));
      for (const id of ids) {
        const ctrl = this.running.get(id);
        if (!ctrl) continue;
        const h = byId.get(id);
        if (h?.cancelRequested) ctrl.abort(new Aborted('canceled'));
        if (h) continue;
        const now = await this.o.store.leaseHolder(id);
        if (this.running.get(id) !== ctrl) continue;
        if (now.owner !== this.o.workerId || now.status !== 'running') {
          this.o.logger.warn(
            { executionId: id, owner: now.owner, status: now.status },
            'lease lost: another worker owns this execution now',
          );
          ctrl.abort(new Aborted('lease_lost'));
        }
      }
    } catch (err) {
      this.o.logger.warn({ err }, 'lease heartbeat failed');
    }
  }

  /** Claims and runs an execution; 'not_claimed' when another worker has it or it is done. */
  async run(executionId: string, depth = 0): Promise<RunOutcome> {
    if (this.running.has(executionId)) return 'not_claimed';
    let ex = await this.o.store.claim(executionId, this.o.workerId, this.o.leaseMs);
    if (!ex && this.o.groupModes?.length) {
      // Not claimable as an ordinary execution: it may be one of the group's.
      // A full group leaves it queued; it is enqueued again when a slot frees.
      const g = await this.o.store.claimInGroup(executionId, this.o.workerId, this.o.leaseMs);
      if (g !== 'full') ex = g;
    }
    if (!ex) return 'not_claimed';
    await this.runClaimed(ex, depth);
    return 'claimed';
  }

  /** Runs an execution this worker already holds (claimed, or inserted claimed). */
  async runClaimed(ex: Execution, depth = 0): Promise<void> {
    await this.runHeld(ex, depth);
  }

  /**
   * Runs a new execution that has no row yet, in memory, and writes it once,
   * ended, with its steps: for instant workflows (every node runs in memory
   * at once, none changes the world). Nothing of the run leaves the process
   * before that write is committed: its webhook answer is held until then.
   * Should the run need a durable write before its end after all (a wait, a
   * side effect), its row is inserted, claimed by this worker, first, and the
   * run goes on as any other. Returns the status it ended with; throws when
   * it could not be recorded (then it did not happen: nothing was answered).
   */
  async runInMemory(ex: Execution, input: NewExecution): Promise<ExecutionStatus> {
    const deferred: Deferred = { input, held: [] };
    this.unrecorded.add(ex.id);
    try {
      await this.runHeld(ex, 0, deferred);
    } finally {
      this.unrecorded.delete(ex.id);
    }
    if (deferred.failure !== undefined) throw deferred.failure;
    // Recorded mid-run and its end not written: its lease runs out and the sweep resumes it.
    return deferred.status ?? 'running';
  }

  private async runHeld(ex: Execution, depth: number, deferred?: Deferred): Promise<void> {
    const ctrl = new AbortController();
    this.running.set(ex.id, ctrl);
    let deadline: NodeJS.Timeout | undefined;
    if (ex.deadlineAt)
      deadline = setTimeout(
        () => ctrl.abort(new Aborted('timeout')),
        Math.max(0, ex.deadlineAt.getTime() - Date.now()),
      );
    try {
      await new ExecutionRun(this, this.o, ex, ctrl, depth, deferred).execute();
    } finally {
      clearTimeout(deadline);
      this.running.delete(ex.id);
      if (this.o.groupModes?.includes(ex.mode)) this.o.onGroupSlotFree?.();
    }
  }

  /** Runs another workflow as a child of a node, here if it can be claimed, and returns its result. */
  async runSubWorkflow(input: {
    parent: ExecutionInfo;
    parentNode: string;
    workflowId: number;
    items: Item[];
    signal: AbortSignal;
  }): Promise<Item[]> {
    if (input.parent.depth + 1 >= maxDepth)
      throw new UserError('subworkflow_depth', `sub-workflows nest deeper than ${maxDepth}`);
    const wf = await this.o.workflows.get(input.workflowId);
    const version = wf.activeVersion ?? wf.currentVersion;
    const def = await this.o.workflows.version(wf.id, version);
    const trigger = def.nodes.find((n) => n.type === 'manual');
    if (!trigger)
      throw new UserError(
        'no_manual_trigger',
        `workflow ${wf.id} has no manual trigger to start it with`,
      );
    const childId = await this.o.store.createChild({
      workflowId: wf.id,
      workflowVersion: version,
      mode: 'subworkflow',
      triggerNode: trigger.name,
      triggerItems: input.items,
      timeoutMs: def.settings.timeoutMs ?? this.o.defaultTimeoutMs,
      parentExecutionId: input.parent.id,
      parentNode: input.parentNode,
    });
    for (;;) {
      const child = await this.o.store.get(childId);
      if (child.status === 'succeeded')
        return Array.isArray(child.result) ? (child.result as Item[]) : [];
      if (terminalStatuses.includes(child.status))
        throw new UserError(
          'subworkflow_failed',
          `sub-workflow execution ${childId} ended ${child.status}: ${child.error?.message ?? ''}`,
        );
      if ((await this.run(childId, input.parent.depth + 1)) === 'not_claimed')
        await sleep(250, input.signal);
    }
  }
}

/** A run in memory whose row is not written yet, and what it holds back until then. */
type Deferred = {
  input: NewExecution;
  /** Webhook answers given before the row existed. */
  held: WebhookResponse[];
  /** How it ended: with this status, or given back to the queue ('queued'). */
  status?: ExecutionStatus;
  /** The write that failed: the run is not recorded. */
  failure?: unknown;
};

class ExecutionRun {
  private readonly pending: StepWrite[] = [];
  private responded = false;
  private readonly info: ExecutionInfo;

  constructor(
    private readonly executor: Executor,
    private readonly o: ExecutorOptions,
    private readonly ex: Execution,
    private readonly ctrl: AbortController,
    depth: number,
    /** Set while the run has no row (runInMemory). */
    private deferred?: Deferred,
  ) {
    this.info = {
      id: ex.id,
      workflowId: ex.workflowId,
      workflowVersion: ex.workflowVersion,
      mode: ex.mode,
      startedAt: (ex.startedAt ?? new Date()).toISOString(),
      triggerNode: ex.triggerNode,
      triggerItems: ex.triggerData,
      depth,
    };
  }

  private get owner() {
    return this.o.workerId;
  }

  private readonly seq = new Map<string, number>();

  private step(
    node: string,
    status: StepWrite['status'],
    startedAt: Date,
    data: { input?: unknown; output?: unknown; error?: ExecutionError | null; attempts?: number },
  ): StepWrite {
    const input = capJson(data.input ?? null, this.o.stepDataMaxBytes);
    const output = capJson(data.output ?? null, this.o.stepDataMaxBytes);
    const done = status === 'started' ? null : new Date();
    return {
      node_name: node,
      seq: this.seq.get(node) ?? 0,
      status,
      attempts: data.attempts ?? 1,
      input: input.value,
      output: output.value,
      truncated: input.truncated || output.truncated,
      error: data.error ?? null,
      worker: this.owner,
      started_at: startedAt.toISOString(),
      finished_at: done?.toISOString() ?? null,
      duration_ms: done ? done.getTime() - startedAt.getTime() : null,
    };
  }

  private takePending(...more: StepWrite[]): StepWrite[] {
    return [...this.pending.splice(0), ...more];
  }

  /** Whether the execution's row exists (always, but for a run in memory before its end). */
  private recorded = false;

  /**
   * A run in memory that needs a durable write before its end gets its row
   * first, claimed by this worker; from then on it is an ordinary run.
   */
  private async ensureRecorded(): Promise<void> {
    if (!this.deferred || this.recorded) return;
    await this.o.store.createClaimed(
      { ...this.deferred.input, id: this.ex.id },
      this.owner,
      this.o.leaseMs,
    );
    this.recorded = true;
    this.executor.unrecorded.delete(this.ex.id);
    this.sendHeld();
  }

  private sendHeld(): void {
    for (const response of this.deferred?.held.splice(0) ?? [])
      this.o.nodeEnv.respond(this.ex.id, response);
  }

  private async writeSteps(steps: StepWrite[]): Promise<void> {
    await this.ensureRecorded();
    await this.o.store.writeSteps(this.ex.id, this.owner, steps);
  }

  private async suspend(at: Date, steps: StepWrite[]): Promise<boolean> {
    await this.ensureRecorded();
    return this.o.store.suspend(this.ex.id, this.owner, at, steps);
  }

  /**
   * Gives the execution back to the queue (shutdown, a dependency failed). A
   * run in memory with no row yet is written queued, as if never started:
   * nothing it did changed anything, and its answer was never sent.
   */
  private async release(steps: StepWrite[]): Promise<boolean> {
    if (this.deferred && !this.recorded) {
      await this.o.store.create({ ...this.deferred.input, id: this.ex.id });
      this.recorded = true;
      this.deferred.held.length = 0;
      this.deferred.status = 'queued';
      return true;
    }
    return this.o.store.release(this.ex.id, this.owner, steps);
  }

  async execute(): Promise<void> {
    const { ex, o } = this;
    const log = o.logger.child({ executionId: ex.id });
    let def: WorkflowDefinition | undefined;
    try {
      def = await o.workflows.version(ex.workflowId, ex.workflowVersion);
      if (ex.cancelRequested) throw new Aborted('canceled');
      await this.walk(def);
    } catch (err) {
      const kind = err instanceof Aborted ? err.kind : (this.ctrl.signal.reason as Aborted)?.kind;
      const steps = this.takePending();
      try {
        if (kind === 'lease_lost') log.warn('lease lost: another worker owns this execution now');
        else if (kind === 'shutdown' || (kind === undefined && isOperationalError(err))) {
          // A dependency failed (the database blinked): the run is handed back
          // to be resumed, not failed; if even that write fails, its lease,
          // no longer renewed, expires and the sweep resumes it.
          if (kind === undefined)
            log.warn({ err }, 'a dependency failed; handing the execution back');
          if (await this.release(steps)) o.requeue(ex.id, kind === 'shutdown' ? 0 : 2000);
        } else if (kind === 'canceled') {
          await this.end(
            def,
            'canceled',
            null,
            { code: 'canceled', message: 'canceled by request' },
            steps,
          );
        } else if (kind === 'timeout') {
          await this.end(
            def,
            'failed',
            null,
            { code: 'execution_timeout', message: 'the execution ran past its timeout' },
            steps,
          );
        } else {
          log.error({ err }, 'execution crashed');
          await this.end(
            def,
            'failed',
            null,
            { code: 'internal_error', message: (err as Error).message },
            steps,
          );
        }
      } catch (writeErr) {
        if (this.deferred && !this.recorded) {
          // Never written: the run did not happen, and its caller is told so.
          this.deferred.failure = writeErr;
          log.warn({ err: writeErr }, 'could not record an execution run in memory');
          return;
        }
        // The database is unreachable: the lease expires and the sweep resumes it.
        log.warn({ err: writeErr }, 'could not record the end of an execution; it will be resumed');
      }
    }
  }

  private async end(
    def: WorkflowDefinition | undefined,
    status: 'succeeded' | 'failed' | 'canceled' | 'needs_attention',
    result: unknown,
    error: ExecutionError | null,
    steps: StepWrite[],
  ) {
    const { ex, o } = this;
    const capped = capJson(result, o.stepDataMaxBytes).value;
    let ok: boolean;
    if (this.deferred && !this.recorded) {
      await o.store.record(ex, this.deferred.input, { status, result: capped, error }, steps);
      this.recorded = true;
      this.sendHeld();
      ok = true;
    } else ok = await o.store.finish(ex.id, this.owner, status, { result: capped, error }, steps);
    if (ok && this.deferred) this.deferred.status = status;
    if (ok) {
      this.executor.ended[status] = (this.executor.ended[status] ?? 0) + 1;
      o.observer?.executionEnded?.({
        workflow: def?.name ?? `#${ex.workflowId}`,
        status,
        seconds: (Date.now() - (ex.startedAt ?? ex.createdAt).getTime()) / 1000,
      });
    }
    if (
      ex.mode === 'webhook' &&
      !this.responded &&
      def?.nodes.some((n) => n.type === 'respondToWebhook')
    )
      o.nodeEnv.respond(ex.id, {
        status: status === 'succeeded' ? 200 : 500,
        headers: {},
        body: { executionId: ex.id, status, ...(error ? { error } : {}) },
      });
    if (ok && status === 'failed' && def?.settings.errorWorkflowId && o.onFailed)
      await o
        .onFailed(ex, def, error!)
        .catch((err) =>
          o.logger.warn({ err, executionId: ex.id }, 'could not start the error workflow'),
        );
    if (ok && status === 'needs_attention' && o.onNeedsAttention)
      await o
        .onNeedsAttention(ex, def, error!)
        .catch((err) =>
          o.logger.error(
            { err, executionId: ex.id },
            'could not report a needs_attention execution',
          ),
        );
  }

  private async walk(def: WorkflowDefinition): Promise<void> {
    const { ex, o } = this;
    const byName = new Map(def.nodes.map((n) => [n.name, n]));
    const edges = edgesOf(def);
    const reachable = new Set([ex.triggerNode]);
    for (let grew = true; grew;) {
      grew = false;
      for (const e of edges)
        if (reachable.has(e.from) && !reachable.has(e.to)) {
          reachable.add(e.to);
          grew = true;
        }
    }
    // A test run up to a node runs only that node's ancestors (and itself).
    if (ex.destinationNode) {
      const wanted = new Set([ex.destinationNode]);
      for (let grew = true; grew;) {
        grew = false;
        for (const e of edges)
          if (wanted.has(e.to) && !wanted.has(e.from)) {
            wanted.add(e.from);
            grew = true;
          }
      }
      for (const n of [...reachable]) if (!wanted.has(n)) reachable.delete(n);
    }
    const order = topologicalOrder(
      [...reachable],
      edges.filter((e) => reachable.has(e.from) && reachable.has(e.to)),
    )!;
    order.forEach((n, i) => this.seq.set(n, i));
    const prior =
      ex.attempts > 1
        ? new Map((await o.store.steps(ex.id)).map((s) => [s.nodeName, s]))
        : new Map();
    if (
      prior.get(def.nodes.find((n) => n.type === 'respondToWebhook')?.name ?? '')?.status ===
      'succeeded'
    )
      this.responded = true;
    const outputs = new Map<string, { main: (Item[] | null)[]; error: Item[] | null }>();
    let last: Item[] | null = null;
    // Pinned data stands in for a node only in a test run from the editor;
    // production executions (webhook, schedule, manual, retry...) ignore it.
    const pins = ex.mode === testMode ? (def.pinData ?? {}) : {};
    // Nodes whose output came from a pinned non-trigger node, directly or not.
    const madeUp = new Map<string, string>();

    for (const name of order) {
      if (this.ctrl.signal.aborted) throw this.ctrl.signal.reason;
      const node = byName.get(name)!;
      const type = o.registry.get(node.type)!;
      const inputs: Item[][] = Array.from({ length: type.inputs }, () => []);
      let arrived = false;
      let pinnedSource: string | undefined;
      for (const e of edges) {
        if (e.to !== name) continue;
        const from = outputs.get(e.from);
        const items = e.output === 'error' ? from?.error : from?.main[e.output];
        if (items && items.length > 0) {
          inputs[e.input]?.push(...items);
          arrived = true;
          pinnedSource ??= madeUp.get(e.from);
        }
      }
      if (name !== ex.triggerNode && !arrived) continue;
      const ctx = this.context(node, inputs, outputs, pinnedSource);
      const effects = hasSideEffects(type, node.parameters);
      const before = prior.get(name);
      let outcome: Outcome;
      const startedAt = new Date();
      const pinned = pins[name];
      if (pinned) {
        if (type.group !== 'trigger') madeUp.set(name, name);
        outcome = { ok: true, result: { outputs: [pinned] }, attempts: 0 };
        // attempts 0: the node did not run; its pinned items are its output.
        this.pending.push(
          this.step(name, 'succeeded', startedAt, { input: inputs, output: [pinned], attempts: 0 }),
        );
      } else if (pinnedSource && effects) {
        // The same safety rules as any run: a node that changes the world
        // never acts on items someone typed in place of a node's real output
        // (a pinned approval decision must not stand in for a person's).
        const error = {
          code: 'pinned_input_side_effect',
          message: `node "${name}" has side effects and its input comes from the pinned data of "${pinnedSource}"; a test run never acts on pinned data. Unpin "${pinnedSource}", or run up to a node before "${name}".`,
          node: name,
        };
        return this.end(
          def,
          'failed',
          null,
          error,
          this.takePending(
            this.step(name, 'failed', startedAt, { input: inputs, error, attempts: 0 }),
          ),
        );
      } else if (before?.status === 'succeeded' && !before.truncated) {
        outcome = {
          ok: true,
          result: { outputs: before.output as (Item[] | null)[] },
          attempts: before.attempts,
        };
      } else if (before?.status === 'failed' && !before.truncated) {
        outcome = { ok: false, error: before.error!, attempts: before.attempts };
      } else {
        if (before && effects) {
          const verified = await this.verify(type, ctx);
          if (verified.status === 'done') {
            outcome = { ok: true, result: verified.result, attempts: before.attempts };
            await this.writeSteps(
              this.takePending(
                this.step(name, 'succeeded', startedAt, {
                  input: inputs,
                  output: verified.result.outputs,
                  attempts: before.attempts,
                }),
              ),
            );
          } else if (verified.status === 'unknown') {
            const message = `node "${name}" has side effects and was interrupted; whether it took effect is unknown (${verified.detail}). Check, then mark it as done or retry.`;
            return this.end(
              def,
              'needs_attention',
              null,
              { code: 'side_effect_unknown', message, node: name },
              this.takePending(),
            );
          } else outcome = await this.runNode(name, type, ctx, effects, inputs, startedAt);
        } else outcome = await this.runNode(name, type, ctx, effects, inputs, startedAt);
      }

      if (pinnedSource) madeUp.set(name, pinnedSource);
      if (outcome.ok) {
        outputs.set(name, { main: outcome.result.outputs, error: null });
        last = outcome.result.outputs[0] ?? null;
        if (outcome.result.waitUntil && before?.status !== 'succeeded') {
          const at = outcome.result.waitUntil;
          if (await this.suspend(at, this.takePending())) {
            o.requeue(ex.id, Math.max(0, at.getTime() - Date.now()));
            // A webhook caller still waiting for a respond node is told it went to sleep.
            if (ex.mode === 'webhook' && !this.responded)
              o.nodeEnv.respond(ex.id, {
                status: 202,
                headers: {},
                body: { executionId: ex.id, status: 'waiting', resumeAt: at.toISOString() },
              });
          }
          return;
        }
        continue;
      }
      const error = outcome.error;
      const withError = (inputs[0]?.length ? inputs[0] : [{}]).map((i) => ({ ...i, error }));
      if (node.onError === 'continue') outputs.set(name, { main: [withError], error: null });
      else if (node.onError === 'errorBranch') outputs.set(name, { main: [], error: withError });
      else return this.end(def, 'failed', null, error, this.takePending());
    }
    await this.end(def, 'succeeded', last, null, this.takePending());
  }

  private async verify(type: NodeType, ctx: NodeContext) {
    if (!type.verify) return { status: 'unknown' as const, detail: 'the node has no verify probe' };
    try {
      return await type.verify(ctx);
    } catch (err) {
      if (this.ctrl.signal.aborted) throw this.ctrl.signal.reason;
      return { status: 'unknown' as const, detail: `verify failed: ${(err as Error).message}` };
    }
  }

  private async runNode(
    name: string,
    type: NodeType,
    ctx: NodeContext,
    effects: boolean,
    inputs: Item[][],
    startedAt: Date,
  ): Promise<Outcome> {
    const { o } = this;
    if (effects)
      await this.writeSteps(
        this.takePending(this.step(name, 'started', startedAt, { input: inputs })),
      );
    const outcome = await this.tryRun(type, ctx);
    const record = outcome.ok
      ? this.step(name, 'succeeded', startedAt, {
          input: inputs,
          output: outcome.result.outputs,
          attempts: outcome.attempts,
        })
      : this.step(name, 'failed', startedAt, {
          input: inputs,
          error: outcome.error,
          attempts: outcome.attempts,
        });
    o.observer?.stepEnded?.({
      nodeType: type.type,
      status: outcome.ok ? 'succeeded' : 'failed',
      seconds: (Date.now() - startedAt.getTime()) / 1000,
    });
    if (effects) await this.writeSteps(this.takePending(record));
    else this.pending.push(record);
    return outcome;
  }

  private async tryRun(type: NodeType, ctx: NodeContext): Promise<Outcome> {
    const policy = ctx.node.retry;
    const maxTries = policy?.maxTries ?? 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return { ok: true, result: await type.run(ctx), attempts: attempt };
      } catch (err) {
        if (this.ctrl.signal.aborted) throw this.ctrl.signal.reason;
        if (attempt >= maxTries || err instanceof ExpressionError)
          return { ok: false, error: toExecutionError(err, ctx.node.name), attempts: attempt };
        const base = policy!.waitMs;
        const wait = policy!.backoff === 'fixed' ? base : base * 2 ** (attempt - 1);
        await sleep(Math.min(wait, 300_000), this.ctrl.signal);
      }
    }
  }

  private context(
    node: WorkflowNode,
    inputs: Item[][],
    outputs: Map<string, { main: (Item[] | null)[]; error: Item[] | null }>,
    /** Set when the node's input came through a pinned node (test runs). */
    pinnedSource?: string,
  ): NodeContext {
    const items = inputs[0] ?? [];
    const { o } = this;
    const nodes: Record<string, Item[]> = {};
    for (const [n, out] of outputs) nodes[n] = out.main[0] ?? out.error ?? [];
    const execution = {
      id: this.ex.id,
      startedAt: this.info.startedAt,
      mode: this.ex.mode,
      workflowId: this.ex.workflowId,
    };
    return {
      node,
      execution: this.info,
      inputs,
      items:
        node.type === 'webhook' || node.type === 'schedule' || node.type === 'manual'
          ? this.ex.triggerData
          : items,
      signal: this.ctrl.signal,
      param: async <T>(parameter: string, itemIndex = 0) => {
        const value = node.parameters[parameter];
        if (value === undefined) {
          const spec = o.registry.get(node.type)?.parameters.find((p) => p.name === parameter);
          return spec?.default as T;
        }
        return (await evaluateParameter(
          value,
          { json: items[itemIndex] ?? {}, input: items, nodes, execution, env: o.env },
          { node: node.name, parameter },
        )) as T;
      },
      env: {
        ...o.nodeEnv,
        respond: (id, response) => {
          this.responded = true;
          if (this.deferred && !this.recorded) this.deferred.held.push(response);
          else o.nodeEnv.respond(id, response);
        },
        // A child workflow runs in production mode and may act on what it is
        // given: it never starts on pinned data, for the same reason a side
        // effect does not.
        runSubWorkflow: (input) =>
          pinnedSource
            ? Promise.reject(
                new UserError(
                  'pinned_input_side_effect',
                  `node "${node.name}" would start another workflow with the pinned data of "${pinnedSource}"; a test run never hands pinned data on. Unpin "${pinnedSource}", or run up to a node before "${node.name}".`,
                ),
              )
            : this.ensureRecorded().then(() => this.executor.runSubWorkflow(input)),
      },
    };
  }
}
