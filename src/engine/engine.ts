// The engine's service: workflows (validated, versioned), starting and
// controlling executions, and the background roles a process may run
// (worker, scheduler, sweep). Triggers write the execution row first and
// enqueue its id second: the row is the promise, the job only a wake-up.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';

import type { Db } from '../db/db.ts';
import { isOperationalError, UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { builtinNodes } from '../nodes/index.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { Execution, ExecutionError, ExecutionStatus } from './execution-store.ts';
import { ExecutionStore, terminalStatuses } from './execution-store.ts';
import { Executor } from './executor.ts';
import type { Item } from './expressions.ts';
import type { NodeRegistry } from './node-types.ts';
import type { ResponseBus } from './response-bus.ts';
import { Scheduler } from './scheduler.ts';
import { Sweeper } from './sweeper.ts';
import type { WorkflowDefinition } from './workflow-model.ts';
import { validateWorkflow } from './workflow-model.ts';
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
};

export type EngineOptions = {
  db: Db;
  logger: Logger;
  queue: JobQueue;
  responses: ResponseBus;
  settings: EngineSettings;
  /** Lease owner name of this process. @default host:pid:random */
  workerId?: string;
  /** The environment $env may read from. @default process.env */
  environment?: Record<string, string | undefined>;
};

export type StartInput = {
  workflowId: number;
  version: number;
  mode: string;
  triggerNode: string;
  items: Item[];
  retryOf?: string;
  /** Runs after the row is committed and before the job is enqueued. */
  beforeEnqueue?(executionId: string): void;
};

export class Engine {
  readonly registry: NodeRegistry = builtinNodes();
  readonly workflows: WorkflowStore;
  readonly executions: ExecutionStore;
  readonly executor: Executor;
  readonly scheduler: Scheduler;
  readonly sweeper: Sweeper;
  readonly workerId: string;
  private consuming = false;

  constructor(private readonly o: EngineOptions) {
    const s = o.settings;
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.workflows = new WorkflowStore(o.db);
    this.executions = new ExecutionStore(o.db);
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
      },
      requeue: (id, delayMs) => void this.enqueue(id, delayMs),
      onFailed: (ex, def, error) => this.startErrorWorkflow(ex, def, error),
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

  /** Records an execution, then enqueues it; returns its id once the row is committed. */
  async start(input: StartInput): Promise<string> {
    const def = await this.workflows.version(input.workflowId, input.version);
    const id = await this.executions.create({
      workflowId: input.workflowId,
      workflowVersion: input.version,
      mode: input.mode,
      triggerNode: input.triggerNode,
      triggerItems: input.items,
      timeoutMs: def.settings.timeoutMs ?? this.o.settings.executionTimeoutMs,
      retryOf: input.retryOf,
    });
    input.beforeEnqueue?.(id);
    await this.enqueue(id);
    return id;
  }

  /** Enqueues; a queue that is down is logged, not thrown: the sweep enqueues the row later. */
  async enqueue(id: string, delayMs = 0): Promise<void> {
    try {
      await this.o.queue.enqueue(id, { delayMs });
    } catch (err) {
      if (!isOperationalError(err)) throw err;
      this.o.logger.warn({ err, executionId: id }, 'queue unavailable; the sweep will enqueue it');
    }
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
      mode: 'retry',
      triggerNode: ex.triggerNode,
      items: ex.triggerData,
      retryOf: ex.id,
    });
  }

  cancel(executionId: string): Promise<Execution> {
    return this.executions.requestCancel(executionId);
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
    // The in-process queue starts empty: everything queued in the database is due now.
    void this.sweeper.sweep(this.o.queue.kind === 'embedded' ? 0 : undefined);
  }

  /**
   * Graceful: stop taking jobs and firing schedules, let running executions
   * finish within timeoutMs, then give the rest back to the queue.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.scheduler.stop();
    this.sweeper.stop();
    if (this.consuming) {
      await this.o.queue.stopConsuming(timeoutMs);
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
