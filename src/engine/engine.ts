// The engine's service: workflows (validated, versioned), starting and
// controlling executions, and the background roles a process may run
// (worker, scheduler, sweep). Triggers write the execution row first and
// enqueue its id second: the row is the promise, the job only a wake-up.
// Instant workflows, in a process that runs executions, run first and are
// written once, ended (start, isInstant).
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import type { Db } from '../db/db.ts';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { builtinNodes } from '../nodes/index.ts';
import { outboundPolicy } from '../nodes/outbound-policy.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type {
  ConcurrencyGroup,
  Execution,
  ExecutionError,
  ExecutionStatus,
} from './execution-store.ts';
import { ExecutionStore, heldExecution, terminalStatuses } from './execution-store.ts';
import type { ExecutionObserver } from './executor.ts';
import { Backoff } from './backoff.ts';
import { Executor, testMode } from './executor.ts';
import type { Item } from './expressions.ts';
import type { NodeRegistry } from './node-types.ts';
import type { ResponseBus } from './response-bus.ts';
import { Scheduler } from './scheduler.ts';
import { Sweeper } from './sweeper.ts';
import type { WorkflowDefinition } from './workflow-model.ts';
import { edgesOf, validateWorkflow } from './workflow-model.ts';
import type { Workflow } from './workflow-store.ts';
import { WorkflowStore } from './workflow-store.ts';

export type EngineSettings = {
  leaseMs: number;
  heartbeatMs: number;
  sweepIntervalMs: number;
  requeueAfterMs: number;
  stepDataMaxBytes: number;
  executionTimeoutMs: number;
  envAllowlist: string;
  httpMaxResponseBytes: number;
  /** WARDEN_HTTP_ALLOW_HOSTS entries. @default [] */
  httpAllowHosts?: readonly string[];
  /** Queue mode: a process that does not consume runs instant workflows itself. @default false */
  instantRunsInMain?: boolean;
};

export type EngineOptions = {
  db: Db;
  logger: Logger;
  queue: JobQueue;
  responses: ResponseBus;
  settings: EngineSettings;
  /** A cluster-wide cap on running executions of some modes (healing runs). */
  group?: ConcurrencyGroup;
  /** Lease owner name of this process. @default host:pid:random */
  workerId?: string;
  /** The environment $env may read from. @default process.env */
  environment?: Record<string, string | undefined>;
  /** Told of ended executions and node steps (metrics). */
  observer?: ExecutionObserver;
};

export type NeedsAttentionListener = (execution: Execution, error: ExecutionError) => Promise<void>;

export type StartInput = {
  workflowId: number;
  version: number;
  mode: string;
  triggerNode: string;
  items: Item[];
  retryOf?: string;
  /** Test runs: stop after this node. */
  destinationNode?: string;
  /** Runs after the row is committed and before the job is enqueued. */
  beforeEnqueue?(executionId: string): void;
};

/** A started execution, and where it stood when start returned. */
export type Started = { id: string; status: ExecutionStatus };

/** Instant runs in flight at once in one process; past it, new ones take the queue. */
const maxInstantRuns = 1000;

const instantDefinitions = new WeakMap<WorkflowDefinition, boolean>();

/**
 * Whether a workflow can run before it is recorded: every node instant (in
 * memory, at once, no side effects) and none retried after a pause.
 */
function isInstant(def: WorkflowDefinition, registry: NodeRegistry): boolean {
  let instant = instantDefinitions.get(def);
  if (instant === undefined) {
    instant = def.nodes.every(
      (n) => registry.get(n.type)?.instant === true && (n.retry?.maxTries ?? 1) <= 1,
    );
    instantDefinitions.set(def, instant);
  }
  return instant;
}

export class Engine {
  readonly registry: NodeRegistry = builtinNodes();
  readonly workflows: WorkflowStore;
  readonly executions: ExecutionStore;
  readonly executor: Executor;
  readonly scheduler: Scheduler;
  readonly sweeper: Sweeper;
  readonly workerId: string;
  private consuming = false;
  private instantRuns = 0;
  private stopped = false;
  /** Queue mode, not consuming: instant workflows still run here. */
  private readonly instantRunsInMain: boolean;

  constructor(private readonly o: EngineOptions) {
    const s = o.settings;
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.workflows = new WorkflowStore(o.db);
    this.executions = new ExecutionStore(o.db, o.group);
    this.instantRunsInMain = (s.instantRunsInMain ?? false) && o.queue.kind === 'bullmq';
    const source = o.environment ?? process.env;
    const env: Record<string, string> = {};
    for (const name of s.envAllowlist
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean))
      if (source[name] !== undefined) env[name] = source[name]!;
    this.executor = new Executor({
      store: this.executions,
      workflows: this.workflows,
      registry: this.registry,
      logger: o.logger,
      workerId: this.workerId,
      leaseMs: s.leaseMs,
      heartbeatMs: s.heartbeatMs,
      stepDataMaxBytes: s.stepDataMaxBytes,
      defaultTimeoutMs: s.executionTimeoutMs,
      env,
      nodeEnv: {
        respond: (id, response) => o.responses.publish(id, response),
        httpMaxResponseBytes: s.httpMaxResponseBytes,
        httpPolicy: outboundPolicy(s.httpAllowHosts ?? []),
      },
      requeue: (id, delayMs) => void this.enqueue(id, delayMs),
      onFailed: (ex, def, error) => this.startErrorWorkflow(ex, def, error),
      observer: o.observer,
      onNeedsAttention: (ex, def, error) => this.reportNeedsAttention(ex, def, error),
      ...(o.group
        ? {
            groupModes: o.group.modes,
            onGroupSlotFree: () =>
              void this.executions
                .nextInGroup(2)
                .then(async (ids) => {
                  for (const id of ids) await this.enqueue(id);
                })
                .catch((err: unknown) =>
                  o.logger.warn({ err }, 'could not start the next queued healing run'),
                ),
          }
        : {}),
    });
    this.scheduler = new Scheduler({
      db: o.db,
      workflows: this.workflows,
      executions: this.executions,
      logger: o.logger,
      defaultTimeoutMs: s.executionTimeoutMs,
      enqueue: (id) => this.enqueue(id),
    });
    this.sweeper = new Sweeper({
      db: o.db,
      executions: this.executions,
      logger: o.logger,
      intervalMs: s.sweepIntervalMs,
      requeueAfterMs: s.requeueAfterMs,
      enqueue: (id) => this.enqueue(id),
    });
  }

  get queue(): JobQueue {
    return this.o.queue;
  }

  get responses(): ResponseBus {
    return this.o.responses;
  }

  // -- workflows --------------------------------------------------------

  validate(doc: unknown): WorkflowDefinition {
    return validateWorkflow(doc, this.registry);
  }

  createWorkflow(doc: unknown): Promise<Workflow> {
    return this.workflows.create(this.validate(doc));
  }

  async updateWorkflow(
    id: number,
    doc: unknown,
    options: { expectedVersion?: number } = {},
  ): Promise<Workflow> {
    const wf = await this.workflows.update(id, this.validate(doc), options);
    this.scheduler.invalidate();
    return wf;
  }

  async setActive(id: number, active: boolean): Promise<Workflow> {
    const wf = await this.workflows.setActive(id, active);
    this.scheduler.invalidate();
    return wf;
  }

  async deleteWorkflow(id: number): Promise<void> {
    await this.workflows.delete(id);
    this.scheduler.invalidate();
  }

  // -- executions -------------------------------------------------------

  /**
   * Records an execution, then enqueues it; returns its id once the row is
   * committed. When this process runs executions and has a free slot (the
   * in-process queue), the row is inserted already claimed by this worker
   * and runs here at once: one statement fewer, no trip through the queue.
   * An instant workflow (isInstant) runs here first, in memory, and its row
   * is written once, ended: the id comes back once that row is committed.
   */
  async start(input: StartInput): Promise<string> {
    return (await this.startWithStatus(input)).id;
  }

  /** start, also saying where the execution stood when it returned (ended, for a run in memory). */
  async startWithStatus(input: StartInput): Promise<Started> {
    const def = await this.workflows.version(input.workflowId, input.version);
    const record = {
      workflowId: input.workflowId,
      workflowVersion: input.version,
      mode: input.mode,
      triggerNode: input.triggerNode,
      triggerItems: input.items,
      timeoutMs: def.settings.timeoutMs ?? this.o.settings.executionTimeoutMs,
      retryOf: input.retryOf,
      destinationNode: input.destinationNode,
    };
    // The concurrency group's executions are counted when claimed; they take the queue.
    const mayRunHere = !this.stopped && !this.o.group?.modes.includes(input.mode);
    const runsHere = this.consuming && mayRunHere;
    // An instant run holds no worker slot (the slots bound what waits on I/O);
    // past maxInstantRuns in flight, it takes the queue like any other. A
    // queue-mode main process runs them too (instantRunsInMain): sending one
    // to a worker would cost a job, a claim and an answer over Redis for
    // work that takes microseconds.
    if (
      (runsHere || (mayRunHere && this.instantRunsInMain)) &&
      input.mode !== testMode &&
      this.instantRuns < maxInstantRuns &&
      isInstant(def, this.registry)
    ) {
      const ex = heldExecution(randomUUID(), record, this.workerId);
      input.beforeEnqueue?.(ex.id);
      // A run that turns out to need its row mid-run holds a lease: renew it.
      this.executor.start();
      this.instantRuns++;
      try {
        return { id: ex.id, status: await this.executor.runInMemory(ex, record) };
      } finally {
        this.instantRuns--;
      }
    }
    const slot = runsHere ? this.o.queue.reserve?.() : undefined;
    if (slot) {
      let ex: Execution;
      try {
        ex = await this.executions.createClaimed(record, this.workerId, this.o.settings.leaseMs);
      } catch (err) {
        slot.release();
        throw err;
      }
      input.beforeEnqueue?.(ex.id);
      void this.executor
        .runClaimed(ex)
        .catch((err: unknown) =>
          this.o.logger.error({ err, executionId: ex.id }, 'execution run failed'),
        )
        .finally(() => slot.release());
      return { id: ex.id, status: 'running' };
    }
    const id = await this.executions.create(record);
    input.beforeEnqueue?.(id);
    await this.enqueue(id);
    return { id, status: 'queued' };
  }

  /**
   * Enqueues; a queue that is down is logged, not thrown: the row is the
   * record, and the id is tried again within seconds (then by the sweep).
   */
  async enqueue(id: string, delayMs = 0): Promise<void> {
    try {
      await this.o.queue.enqueue(id, { delayMs });
    } catch (err) {
      this.o.logger.warn(
        { err, executionId: id },
        'queue unavailable; the enqueue is retried in a few seconds',
      );
      this.retryEnqueue(id, delayMs);
    }
  }

  private readonly unsent = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly enqueueBackoff = new Backoff({ baseMs: 1000, maxMs: 5000 });

  /** Ids that could not be enqueued yet and wait for the next retry. */
  get enqueuePending(): number {
    return this.unsent.size;
  }

  private retryEnqueue(id: string, delayMs: number): void {
    // Bounded: past this, the sweep (which reads the database) catches up.
    if (this.unsent.size < 10_000) this.unsent.set(id, Date.now() + delayMs);
    if (this.retryTimer || this.stopped) return;
    const round = async () => {
      for (const [pending, dueAt] of [...this.unsent]) {
        try {
          await this.o.queue.enqueue(pending, { delayMs: Math.max(0, dueAt - Date.now()) });
          this.unsent.delete(pending);
        } catch {
          return false;
        }
      }
      return true;
    };
    // While a round runs, retryTimer still holds its (fired) handle, so ids
    // that fail meanwhile join the map and the next round.
    const loop = async () => {
      const done = await round();
      if (done && this.enqueueBackoff.succeeded())
        this.o.logger.info('the queue takes jobs again; pending enqueues sent');
      if (this.unsent.size === 0 || this.stopped) {
        this.retryTimer = undefined;
        return;
      }
      this.retryTimer = setTimeout(() => void loop(), done ? 0 : this.enqueueBackoff.failed());
      this.retryTimer.unref();
    };
    this.retryTimer = setTimeout(() => void loop(), this.enqueueBackoff.failed());
    this.retryTimer.unref();
  }

  /** Runs a workflow now from its manual trigger (or the named trigger), on its latest version. */
  async runManual(
    workflowId: number,
    items: Item[] = [{}],
    options: { triggerNode?: string; version?: number } = {},
  ): Promise<string> {
    const wf = await this.workflows.get(workflowId);
    const version = options.version ?? wf.currentVersion;
    const def = await this.workflows.version(workflowId, version);
    const trigger = options.triggerNode
      ? def.nodes.find((n) => n.name === options.triggerNode)
      : (def.nodes.find((n) => n.type === 'manual') ??
        def.nodes.find((n) => this.registry.get(n.type)?.group === 'trigger'));
    if (!trigger || this.registry.get(trigger.type)?.group !== 'trigger')
      throw new UserError(
        'no_trigger',
        `workflow ${workflowId} has no trigger node ${options.triggerNode ? `named "${options.triggerNode}"` : ''}`.trim(),
      );
    return this.start({
      workflowId,
      version,
      mode: 'manual',
      triggerNode: trigger.name,
      items,
    });
  }

  /**
   * A test run from the editor, on the latest saved version: like a manual
   * run, but pinned data stands in for the nodes it is pinned on, and with
   * `destinationNode` only that node and its ancestors run. Every node that
   * does run passes the same checks (the catalogue, the gate, approvals) as
   * in any other run.
   */
  async testRun(
    workflowId: number,
    items: Item[] = [{}],
    options: { triggerNode?: string; destinationNode?: string } = {},
  ): Promise<string> {
    const wf = await this.workflows.get(workflowId);
    const def = await this.workflows.version(workflowId, wf.currentVersion);
    const isTrigger = (type: string) => this.registry.get(type)?.group === 'trigger';
    const destination = options.destinationNode;
    if (destination !== undefined && !def.nodes.some((n) => n.name === destination))
      throw new UserError(
        'unknown_node',
        `workflow ${workflowId} has no node named "${destination}" to run up to`,
      );
    const edges = edgesOf(def);
    const ancestors = new Set(destination ? [destination] : def.nodes.map((n) => n.name));
    for (let grew = true; grew;) {
      grew = false;
      for (const e of edges)
        if (ancestors.has(e.to) && !ancestors.has(e.from)) {
          ancestors.add(e.from);
          grew = true;
        }
    }
    const candidates = def.nodes.filter((n) => isTrigger(n.type) && ancestors.has(n.name));
    const trigger = options.triggerNode
      ? def.nodes.find((n) => n.name === options.triggerNode)
      : (candidates.find((n) => n.type === 'manual') ?? candidates[0]);
    if (!trigger || !isTrigger(trigger.type))
      throw new UserError(
        'no_trigger',
        options.triggerNode
          ? `workflow ${workflowId} has no trigger node named "${options.triggerNode}"`
          : `no trigger of workflow ${workflowId} leads to "${destination}"`,
      );
    if (!ancestors.has(trigger.name))
      throw new UserError(
        'not_reached',
        `"${destination}" is not reached from the trigger "${trigger.name}": connect it, or run up to another node`,
      );
    return this.start({
      workflowId,
      version: wf.currentVersion,
      mode: testMode,
      triggerNode: trigger.name,
      items,
      ...(destination ? { destinationNode: destination } : {}),
    });
  }

  /** Starts a new execution with the same version, trigger and data as an ended one. */
  async retry(executionId: string): Promise<string> {
    const ex = await this.executions.get(executionId);
    if (!terminalStatuses.includes(ex.status) || ex.status === 'succeeded')
      throw new UserError(
        'not_retryable',
        `execution ${executionId} is ${ex.status}; only failed, canceled or needs_attention executions can be retried`,
        { status: 409 },
      );
    return this.start({
      workflowId: ex.workflowId,
      version: ex.workflowVersion,
      // A test run retried stays a test run, up to the same node.
      mode: ex.mode === testMode ? testMode : 'retry',
      triggerNode: ex.triggerNode,
      items: ex.triggerData,
      retryOf: ex.id,
      ...(ex.destinationNode ? { destinationNode: ex.destinationNode } : {}),
    });
  }

  cancel(executionId: string): Promise<Execution> {
    return this.executions.requestCancel(executionId);
  }

  private readonly attentionListeners: NeedsAttentionListener[] = [];

  /** Hears every execution that stops as needs_attention (notifications, incident timeline). */
  onNeedsAttention(listener: NeedsAttentionListener): void {
    this.attentionListeners.push(listener);
  }

  /**
   * needs_attention is loud: logged as an error, its error workflow started
   * (as for a failure), and every listener told; one listener's failure does
   * not silence the others.
   */
  private async reportNeedsAttention(
    ex: Execution,
    def: WorkflowDefinition | undefined,
    error: ExecutionError,
  ): Promise<void> {
    this.o.logger.error(
      { executionId: ex.id, workflowId: ex.workflowId, node: error.node, code: error.code },
      `execution needs attention: ${error.message}`,
    );
    const work: Promise<unknown>[] = this.attentionListeners.map((l) => l(ex, error));
    if (def?.settings.errorWorkflowId) work.push(this.startErrorWorkflow(ex, def, error));
    for (const r of await Promise.allSettled(work))
      if (r.status === 'rejected')
        this.o.logger.error(
          { err: r.reason, executionId: ex.id },
          'could not report a needs_attention execution',
        );
  }

  private async startErrorWorkflow(ex: Execution, def: WorkflowDefinition, error: ExecutionError) {
    if (ex.mode === 'error' || !def.settings.errorWorkflowId) return;
    const target = await this.workflows.get(def.settings.errorWorkflowId);
    const version = target.activeVersion ?? target.currentVersion;
    const tdef = await this.workflows.version(target.id, version);
    const trigger = tdef.nodes.find((n) => n.type === 'manual');
    if (!trigger) return;
    await this.start({
      workflowId: target.id,
      version,
      mode: 'error',
      triggerNode: trigger.name,
      items: [{ execution: { id: ex.id, workflowId: ex.workflowId, mode: ex.mode, error } }],
    });
  }

  /** Waits until an execution reaches one of the statuses (tests and CLI). */
  async waitForStatus(
    id: string,
    statuses: readonly ExecutionStatus[] = terminalStatuses,
    timeoutMs = 30_000,
  ): Promise<Execution> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ex = await this.executions.get(id);
      if (statuses.includes(ex.status)) return ex;
      if (Date.now() > until)
        throw new UserError('wait_timeout', `execution ${id} is still ${ex.status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // -- roles ------------------------------------------------------------

  /**
   * Before traffic: every database connection open, with the tables an
   * execution writes already in its caches, so the first burst after a
   * quiet spell does not pay for them (a stall of seconds on a busy host).
   */
  async warmUp(): Promise<void> {
    await this.o.db.warm(
      `SELECT (SELECT count(*) FROM executions WHERE id = '00000000-0000-0000-0000-000000000000')
         + (SELECT count(*) FROM execution_steps
             WHERE execution_id = '00000000-0000-0000-0000-000000000000')`,
    );
  }

  /** Consumes the queue: this process runs executions. */
  async startWorker(concurrency: number): Promise<void> {
    if (this.consuming) return;
    this.consuming = true;
    this.executor.start();
    await this.o.queue.consume(
      async (id) => {
        await this.executor.run(id);
      },
      { concurrency },
    );
  }

  startScheduler(): void {
    this.scheduler.start();
  }

  startSweeper(): void {
    this.sweeper.start();
    const embedded = this.o.queue.kind === 'embedded';
    void (async () => {
      // The embedded database belongs to this process alone (its data-directory
      // lock proves it): every execution still marked running was left by a
      // process that died, so it is resumed now rather than after its lease.
      if (this.o.db.kind === 'pglite') {
        const n = await this.executions
          .expireLeases(this.workerId)
          .catch((err: unknown) => (this.o.logger.warn({ err }, 'could not free orphans'), 0));
        if (n > 0) this.o.logger.info({ count: n }, 'resuming executions a previous process left');
      }
      // The in-process queue starts empty: everything queued in the database is due now.
      await this.sweeper.sweep(embedded ? 0 : undefined);
    })();
    // A Redis that came back may have come back empty: what the database
    // says is queued is enqueued again now, not after the requeue delay.
    this.o.queue.onRecovered?.(() => void this.sweeper.sweep(0));
  }

  /**
   * Graceful: stop taking jobs and firing schedules, let running executions
   * finish within timeoutMs, then give the rest back to the queue.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.scheduler.stop();
    this.sweeper.stop();
    const until = Date.now() + timeoutMs;
    if (this.consuming) await this.o.queue.stopConsuming(timeoutMs);
    // Instant runs hold no queue slot: they are let finish here (they are quick).
    while (this.executor.unrecorded.size > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    if (this.consuming) {
      if (this.executor.inFlight > 0) {
        this.executor.abortAll('shutdown');
        const until = Date.now() + 5000;
        while (this.executor.inFlight > 0 && Date.now() < until)
          await new Promise((r) => setTimeout(r, 20));
      }
      this.consuming = false;
    }
    this.executor.stop();
  }
}
