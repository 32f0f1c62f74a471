// Executions and their steps in SQL. Every status change is guarded in the
// WHERE clause (a terminal status is never overwritten; a worker writes only
// while it holds the lease), and a trigger in the migration backs that up.
import { randomUUID } from 'node:crypto';

import type { Db, Queryable } from '../db/db.ts';
import { lockForTransaction } from '../db/db.ts';
import { MicroBatcher } from '../db/micro-batcher.ts';
import { notFound, UserError } from '../errors.ts';
import type { Item } from './expressions.ts';

export const executionStatuses = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'canceled',
  'needs_attention',
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];
export const terminalStatuses: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'canceled',
  'needs_attention',
];
const terminalSql = `('succeeded', 'failed', 'canceled', 'needs_attention')`;

export type ExecutionError = { code: string; message: string; node?: string };

export type Execution = {
  id: string;
  workflowId: number;
  workflowVersion: number;
  status: ExecutionStatus;
  mode: string;
  triggerNode: string;
  triggerData: Item[];
  parentExecutionId: string | null;
  parentNode: string | null;
  retryOf: string | null;
  /** A test run's last node: only it and its ancestors run. */
  destinationNode: string | null;
  leaseOwner: string | null;
  attempts: number;
  cancelRequested: boolean;
  result: unknown;
  error: ExecutionError | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  resumeAt: Date | null;
  deadlineAt: Date | null;
};

export type StepStatus = 'started' | 'succeeded' | 'failed';

export type Step = {
  nodeName: string;
  status: StepStatus;
  attempts: number;
  input: unknown;
  output: unknown;
  truncated: boolean;
  error: ExecutionError | null;
  worker: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
};

/** A step as the executor writes it (dates as ISO strings). */
export type StepWrite = {
  node_name: string;
  seq: number;
  status: StepStatus;
  attempts: number;
  input: unknown;
  output: unknown;
  truncated: boolean;
  error: ExecutionError | null;
  worker: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
};

type ExecutionRow = {
  id: string;
  workflow_id: number;
  workflow_version: number;
  status: ExecutionStatus;
  mode: string;
  trigger_node: string;
  trigger_data: Item[];
  parent_execution_id: string | null;
  parent_node: string | null;
  retry_of: string | null;
  destination_node: string | null;
  lease_owner: string | null;
  attempts: number;
  cancel_requested: boolean;
  result: unknown;
  error: ExecutionError | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  resume_at: Date | null;
  deadline_at: Date | null;
};

const toExecution = (r: ExecutionRow): Execution => ({
  id: r.id,
  workflowId: Number(r.workflow_id),
  workflowVersion: r.workflow_version,
  status: r.status,
  mode: r.mode,
  triggerNode: r.trigger_node,
  triggerData: r.trigger_data,
  parentExecutionId: r.parent_execution_id,
  parentNode: r.parent_node,
  retryOf: r.retry_of,
  destinationNode: r.destination_node ?? null,
  leaseOwner: r.lease_owner,
  attempts: r.attempts,
  cancelRequested: r.cancel_requested,
  result: r.result,
  error: r.error,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  resumeAt: r.resume_at,
  deadlineAt: r.deadline_at,
});

type StepRow = {
  node_name: string;
  status: StepStatus;
  attempts: number;
  input: unknown;
  output: unknown;
  truncated: boolean;
  error: ExecutionError | null;
  worker: string | null;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
};

const toStep = (r: StepRow): Step => ({
  nodeName: r.node_name,
  status: r.status,
  attempts: r.attempts,
  input: r.input,
  output: r.output,
  truncated: r.truncated,
  error: r.error,
  worker: r.worker,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms,
});

export type NewExecution = {
  id?: string;
  workflowId: number;
  workflowVersion: number;
  mode: string;
  triggerNode: string;
  triggerItems: Item[];
  timeoutMs: number;
  parentExecutionId?: string;
  parentNode?: string;
  retryOf?: string;
  /** Test runs only: stop after this node (it and its ancestors run). */
  destinationNode?: string;
};

export type ExecutionFilter = {
  workflowId?: number;
  status?: ExecutionStatus;
  mode?: string;
  /** Only executions after this sort key in the newest-first order (keyset paging). */
  after?: ExecutionSortKey;
  /** @default 50 */
  limit?: number;
};

/** Where an execution sits in the newest-first order: its created_at as the database prints it, and its id. */
export type ExecutionSortKey = readonly [createdAt: string, id: string];

const upsertSteps = `
  INSERT INTO execution_steps (execution_id, node_name, seq, status, attempts, input, output, truncated,
    error, worker, started_at, finished_at, duration_ms)
  SELECT $1::uuid, x.node_name, x.seq, x.status, x.attempts, x.input, x.output, x.truncated, x.error,
    x.worker, x.started_at, x.finished_at, x.duration_ms
  FROM jsonb_to_recordset($2::jsonb) AS x(node_name text, seq int, status text, attempts int, input jsonb,
    output jsonb, truncated boolean, error jsonb, worker text, started_at timestamptz,
    finished_at timestamptz, duration_ms int)
  WHERE EXISTS (SELECT 1 FROM executions e WHERE e.id = $1::uuid AND e.lease_owner = $3
    AND e.status = 'running')
  ON CONFLICT (execution_id, node_name) DO UPDATE SET seq = EXCLUDED.seq, status = EXCLUDED.status,
    attempts = EXCLUDED.attempts, input = EXCLUDED.input, output = EXCLUDED.output,
    truncated = EXCLUDED.truncated, error = EXCLUDED.error, worker = EXCLUDED.worker,
    started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
    duration_ms = EXCLUDED.duration_ms`;

/**
 * A cluster-wide cap on running executions of some modes (the healing runs):
 * past it, their executions wait queued, so a storm of them cannot take
 * every worker slot from webhooks and schedules.
 */
export type ConcurrencyGroup = { name: string; modes: readonly string[]; limit: number };

// What a claim sets ($2 owner, $3 lease ms) and which rows it may take.
const claimSet = `status = 'running', lease_owner = $2,
  lease_expires_at = now() + $3 * interval '1 millisecond', resume_at = NULL,
  attempts = attempts + 1, started_at = COALESCE(started_at, now()),
  deadline_at = COALESCE(deadline_at,
    CASE WHEN timeout_ms > 0 THEN now() + timeout_ms * interval '1 millisecond' END)`;
// An execution row's columns by name (not *): a prepared statement's result
// columns must not change under it when a migration adds one.
const executionColumns = `id, workflow_id, workflow_version, status, mode, trigger_node,
  trigger_data, parent_execution_id, parent_node, retry_of, destination_node, lease_owner, attempts,
  cancel_requested, result, error, created_at, started_at, finished_at, resume_at, deadline_at`;
// The execution's own row is found by its id; these tests of its state are
// written as CASE so that the planner cannot answer them from the partial
// status indexes. A prepared statement's generic plan otherwise scans those
// whole indexes (with every dead entry since the last vacuum) on each claim
// or finish: thousands of index entries per execution, growing with the table.
const claimable = `CASE status WHEN 'queued' THEN true
  WHEN 'running' THEN lease_expires_at < now()
  WHEN 'waiting' THEN resume_at <= now() ELSE false END`;
const running = (alias: string) => `CASE ${alias}.status WHEN 'running' THEN true ELSE false END`;

/** A new execution's columns, as the batched insert reads them. */
function newExecutionRow(id: string, input: NewExecution) {
  return {
    id,
    workflow_id: input.workflowId,
    workflow_version: input.workflowVersion,
    mode: input.mode,
    trigger_node: input.triggerNode,
    trigger_data: input.triggerItems,
    timeout_ms: input.timeoutMs,
    parent_execution_id: input.parentExecutionId ?? null,
    parent_node: input.parentNode ?? null,
    retry_of: input.retryOf ?? null,
    destination_node: input.destinationNode ?? null,
  };
}

/**
 * The execution a worker holds right after taking a new one (status running,
 * attempt 1), built here rather than read back: its times are this process's
 * clock.
 */
export function heldExecution(id: string, input: NewExecution, owner: string): Execution {
  const now = new Date();
  return {
    id,
    workflowId: input.workflowId,
    workflowVersion: input.workflowVersion,
    status: 'running',
    mode: input.mode,
    triggerNode: input.triggerNode,
    triggerData: input.triggerItems,
    parentExecutionId: input.parentExecutionId ?? null,
    parentNode: input.parentNode ?? null,
    retryOf: input.retryOf ?? null,
    destinationNode: input.destinationNode ?? null,
    leaseOwner: owner,
    attempts: 1,
    cancelRequested: false,
    result: null,
    error: null,
    createdAt: now,
    startedAt: now,
    finishedAt: null,
    resumeAt: null,
    deadlineAt: input.timeoutMs > 0 ? new Date(now.getTime() + input.timeoutMs) : null,
  };
}

export class ExecutionStore {
  constructor(
    private readonly db: Db,
    private readonly group?: ConcurrencyGroup,
  ) {}

  // Under load, concurrent inserts, claims and finishes share statements. A
  // row with a lease owner is inserted already claimed by that worker.
  private readonly batchesInFlight = () => this.db.writeBatchesInFlight ?? 4;

  private readonly creates = new MicroBatcher<Record<string, unknown>, void>(
    async (rows) => {
      await this.db.query(
        `INSERT INTO executions (id, workflow_id, workflow_version, status, mode, trigger_node,
         trigger_data, timeout_ms, parent_execution_id, parent_node, retry_of, destination_node,
         lease_owner, lease_expires_at, attempts, started_at, deadline_at)
       SELECT x.id, x.workflow_id, x.workflow_version,
         CASE WHEN x.lease_owner IS NULL THEN 'queued' ELSE 'running' END, x.mode, x.trigger_node,
         x.trigger_data, x.timeout_ms, x.parent_execution_id, x.parent_node, x.retry_of,
         x.destination_node, x.lease_owner, now() + x.lease_ms * interval '1 millisecond',
         CASE WHEN x.lease_owner IS NULL THEN 0 ELSE 1 END,
         CASE WHEN x.lease_owner IS NOT NULL THEN now() END,
         CASE WHEN x.lease_owner IS NOT NULL AND x.timeout_ms > 0
           THEN now() + x.timeout_ms * interval '1 millisecond' END
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, workflow_id bigint, workflow_version int,
         mode text, trigger_node text, trigger_data jsonb, timeout_ms int,
         parent_execution_id uuid, parent_node text, retry_of uuid, destination_node text,
         lease_owner text, lease_ms int)`,
        [JSON.stringify(rows)],
        { prepare: true },
      );
      return rows.map(() => undefined);
    },
    500,
    this.batchesInFlight,
  );

  private readonly claims = new MicroBatcher<
    { id: string; owner: string; leaseMs: number },
    Execution | undefined
  >(
    async (items) => {
      const { owner, leaseMs } = items[0]!;
      if (items.some((i) => i.owner !== owner || i.leaseMs !== leaseMs))
        return Promise.all(
          items.map((i) => this.claimNow([i.id], i.owner, i.leaseMs).then((r) => r.get(i.id))),
        );
      const rows = await this.claimNow(
        items.map((i) => i.id),
        owner,
        leaseMs,
      );
      // One row answers one caller: a second claim of the same id in the batch loses.
      return items.map((i) => {
        const row = rows.get(i.id);
        rows.delete(i.id);
        return row;
      });
    },
    500,
    this.batchesInFlight,
  );

  private readonly finishes = new MicroBatcher<
    {
      id: string;
      owner: string;
      status: ExecutionStatus;
      result: unknown;
      error: ExecutionError | null;
      steps: StepWrite[];
    },
    boolean
  >(
    async (items) => {
      const { rows } = await this.db.query<{ id: string }>(
        `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(id uuid, owner text, status text,
           result jsonb, error jsonb, steps jsonb)
       ), s AS (
         INSERT INTO execution_steps (execution_id, node_name, seq, status, attempts, input, output,
           truncated, error, worker, started_at, finished_at, duration_ms)
         SELECT i.id, x.node_name, x.seq, x.status, x.attempts, x.input, x.output, x.truncated,
           x.error, x.worker, x.started_at, x.finished_at, x.duration_ms
         FROM input i CROSS JOIN LATERAL jsonb_to_recordset(i.steps) AS x(node_name text, seq int,
           status text, attempts int, input jsonb, output jsonb, truncated boolean, error jsonb,
           worker text, started_at timestamptz, finished_at timestamptz, duration_ms int)
         WHERE EXISTS (SELECT 1 FROM executions e WHERE e.id = ANY($2::uuid[]) AND e.id = i.id
           AND e.lease_owner = i.owner AND ${running('e')})
         ON CONFLICT (execution_id, node_name) DO UPDATE SET seq = EXCLUDED.seq,
           status = EXCLUDED.status, attempts = EXCLUDED.attempts, input = EXCLUDED.input,
           output = EXCLUDED.output, truncated = EXCLUDED.truncated, error = EXCLUDED.error,
           worker = EXCLUDED.worker, started_at = EXCLUDED.started_at,
           finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms
       )
       UPDATE executions e SET status = i.status, result = i.result, error = i.error,
         finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
       FROM input i WHERE e.id = ANY($2::uuid[]) AND e.id = i.id AND e.lease_owner = i.owner
         AND ${running('e')}
       RETURNING e.id`,
        [JSON.stringify(items), items.map((i) => i.id)],
        { prepare: true },
      );
      const done = new Set(rows.map((r) => r.id));
      return items.map((i) => done.has(i.id));
    },
    500,
    this.batchesInFlight,
  );

  // Executions run in memory before they were recorded (instant workflows):
  // each is written once, ended, with its steps, in one statement per batch.
  private readonly records = new MicroBatcher<Record<string, unknown>, void>(
    async (items) => {
      await this.db.query(
        `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, workflow_id bigint,
           workflow_version int, mode text, trigger_node text, trigger_data jsonb, timeout_ms int,
           parent_execution_id uuid, parent_node text, retry_of uuid, destination_node text,
           status text, result jsonb, error jsonb, started_at timestamptz, steps jsonb)
       ), e AS (
         INSERT INTO executions (id, workflow_id, workflow_version, status, mode, trigger_node,
           trigger_data, timeout_ms, parent_execution_id, parent_node, retry_of, destination_node,
           attempts, result, error, created_at, enqueued_at, started_at, finished_at)
         SELECT id, workflow_id, workflow_version, status, mode, trigger_node, trigger_data,
           timeout_ms, parent_execution_id, parent_node, retry_of, destination_node, 1, result,
           error, started_at, started_at, started_at, greatest(now(), started_at)
         FROM input
       )
       INSERT INTO execution_steps (execution_id, node_name, seq, status, attempts, input, output,
         truncated, error, worker, started_at, finished_at, duration_ms)
       SELECT i.id, x.node_name, x.seq, x.status, x.attempts, x.input, x.output, x.truncated,
         x.error, x.worker, x.started_at, x.finished_at, x.duration_ms
       FROM input i CROSS JOIN LATERAL jsonb_to_recordset(i.steps) AS x(node_name text, seq int,
         status text, attempts int, input jsonb, output jsonb, truncated boolean, error jsonb,
         worker text, started_at timestamptz, finished_at timestamptz, duration_ms int)`,
        [JSON.stringify(items)],
        { prepare: true },
      );
      return items.map(() => undefined);
    },
    500,
    this.batchesInFlight,
  );

  /**
   * Records an execution that ran in memory, already ended, with its steps:
   * its one write. Until it is committed the execution does not exist, and
   * nothing of it (its webhook answer included) has left the process.
   */
  record(
    execution: Execution,
    input: NewExecution,
    outcome: { status: ExecutionStatus; result: unknown; error: ExecutionError | null },
    steps: StepWrite[],
  ): Promise<void> {
    return this.records.submit({
      ...newExecutionRow(execution.id, input),
      status: outcome.status,
      result: outcome.result,
      error: outcome.error,
      started_at: (execution.startedAt ?? execution.createdAt).toISOString(),
      steps,
    });
  }

  /** Inserts a queued execution; returns its id once the row is committed. */
  async create(input: NewExecution, q?: Queryable): Promise<string> {
    const id = input.id ?? randomUUID();
    const row = newExecutionRow(id, input);
    if (!q) {
      await this.creates.submit(row);
      return id;
    }
    await q.query(
      `INSERT INTO executions (id, workflow_id, workflow_version, status, mode, trigger_node,
         trigger_data, timeout_ms, parent_execution_id, parent_node, retry_of, destination_node)
       VALUES ($1, $2, $3, 'queued', $4, $5, $6::jsonb, $7, $8, $9, $10, $11)`,
      [
        id,
        row.workflow_id,
        row.workflow_version,
        row.mode,
        row.trigger_node,
        JSON.stringify(row.trigger_data),
        row.timeout_ms,
        row.parent_execution_id,
        row.parent_node,
        row.retry_of,
        row.destination_node,
      ],
    );
    return id;
  }

  /**
   * Inserts an execution already claimed by this worker (status running, its
   * lease taken, attempt 1), for a process that runs it itself at once: one
   * statement instead of an insert and a claim. Returns the execution as a
   * claim would have; its times are this process's clock, the row's the
   * database's.
   */
  async createClaimed(input: NewExecution, owner: string, leaseMs: number): Promise<Execution> {
    const id = input.id ?? randomUUID();
    await this.creates.submit({
      ...newExecutionRow(id, input),
      lease_owner: owner,
      lease_ms: leaseMs,
    });
    return heldExecution(id, input, owner);
  }

  /**
   * Takes the execution for this worker when it is queued, its lease has
   * expired, or its wait is over. Undefined: someone else has it, or it is done.
   */
  claim(id: string, owner: string, leaseMs: number): Promise<Execution | undefined> {
    return this.claims.submit({ id, owner, leaseMs });
  }

  private async claimNow(ids: string[], owner: string, leaseMs: number) {
    const { rows } = await this.db.query<ExecutionRow>(
      `UPDATE executions SET ${claimSet}
       WHERE id = ANY($1::uuid[]) AND ${claimable} AND mode <> ALL($4::text[])
       RETURNING ${executionColumns}`,
      [ids, owner, leaseMs, this.group?.modes ?? []],
      { prepare: true },
    );
    return new Map(rows.map((r) => [r.id, toExecution(r)]));
  }

  /**
   * Claims an execution of the concurrency group when the group has a free
   * slot: counted and taken under one lock, so the cap holds across workers.
   * 'full' when it must wait; undefined when it is not the group's or not claimable.
   */
  async claimInGroup(
    id: string,
    owner: string,
    leaseMs: number,
  ): Promise<Execution | 'full' | undefined> {
    const g = this.group;
    if (!g) return undefined;
    return this.db.transaction(async (tx) => {
      await lockForTransaction(tx, `warden:execution-group:${g.name}`);
      const { rows: busy } = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM executions
          WHERE status = 'running' AND lease_expires_at > now() AND mode = ANY($1::text[])`,
        [g.modes],
      );
      const { rows } = await tx.query<ExecutionRow>(
        `UPDATE executions SET ${claimSet}
         WHERE id = $1 AND ${claimable} AND mode = ANY($4::text[]) AND $5 RETURNING *`,
        [id, owner, leaseMs, g.modes, busy[0]!.n < g.limit],
      );
      if (rows[0]) return toExecution(rows[0]);
      if (busy[0]!.n < g.limit) return undefined;
      const { rows: mine } = await tx.query(
        `SELECT 1 FROM executions WHERE id = $1 AND ${claimable} AND mode = ANY($2::text[])`,
        [id, g.modes],
      );
      return mine.length > 0 ? 'full' : undefined;
    });
  }

  /** The oldest waiting executions of the group, orphans included (to start when a slot frees). */
  async nextInGroup(limit: number): Promise<string[]> {
    if (!this.group) return [];
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM executions
        WHERE (status = 'queued' OR (status = 'running' AND lease_expires_at < now()))
          AND mode = ANY($1::text[])
        ORDER BY created_at, id LIMIT $2`,
      [this.group.modes, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Renews the leases of the executions this worker is running now (by id:
   * a row it abandoned after a failed write must expire, not be kept alive
   * by a busy worker); returns the ones it renewed, with cancel requests (a
   * row a finish is writing at that moment is left out, not waited for).
   */
  async renewLeases(
    owner: string,
    ids: readonly string[],
    leaseMs: number,
  ): Promise<{ id: string; cancelRequested: boolean }[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.db.query<{ id: string; cancel_requested: boolean }>(
      // Rows a finish is writing now are skipped, not waited for: two
      // multi-row updates that lock in different orders deadlock. The caller
      // looks up every id not returned before it gives a lease up.
      `UPDATE executions e SET lease_expires_at = now() + $3 * interval '1 millisecond'
       FROM (SELECT id FROM executions
              WHERE id = ANY($2::uuid[]) AND lease_owner = $1 AND ${running('executions')}
              ORDER BY id FOR UPDATE SKIP LOCKED) held
       WHERE e.id = held.id
       RETURNING e.id, e.cancel_requested`,
      [owner, ids, leaseMs],
    );
    return rows.map((r) => ({ id: r.id, cancelRequested: r.cancel_requested }));
  }

  /** Who holds the execution now, read fresh (a lease is declared lost only after this). */
  async leaseHolder(id: string): Promise<{ owner: string | null; status: ExecutionStatus }> {
    const { rows } = await this.db.query<{ lease_owner: string | null; status: ExecutionStatus }>(
      'SELECT lease_owner, status FROM executions WHERE id = $1',
      [id],
    );
    return { owner: rows[0]?.lease_owner ?? null, status: rows[0]?.status ?? 'canceled' };
  }

  /**
   * Ends every running lease at once, for a process that knows it is the only
   * one (the embedded database's data-directory lock): their worker is dead.
   */
  async expireLeases(exceptOwner: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE executions SET lease_expires_at = now() - interval '1 millisecond',
         enqueued_at = now() - interval '2 milliseconds'
       WHERE status = 'running' AND lease_owner IS DISTINCT FROM $1`,
      [exceptOwner],
    );
    return rowCount;
  }

  async writeSteps(id: string, owner: string, steps: StepWrite[]): Promise<void> {
    if (steps.length === 0) return;
    await this.db.query(upsertSteps, [id, JSON.stringify(steps), owner]);
  }

  /** Ends a running execution this worker holds, with its pending steps, in one statement. */
  finish(
    id: string,
    owner: string,
    status: ExecutionStatus,
    outcome: { result?: unknown; error?: ExecutionError | null },
    steps: StepWrite[],
  ): Promise<boolean> {
    return this.finishes.submit({
      id,
      owner,
      status,
      result: outcome.result ?? null,
      error: outcome.error ?? null,
      steps,
    });
  }

  /** Parks a running execution until resumeAt (a durable wait). */
  async suspend(id: string, owner: string, resumeAt: Date, steps: StepWrite[]): Promise<boolean> {
    const { rows } = await this.db.query(
      `WITH s AS (${upsertSteps})
       UPDATE executions SET status = 'waiting', resume_at = $4, enqueued_at = now(),
         lease_owner = NULL, lease_expires_at = NULL
       WHERE id = $1 AND lease_owner = $3 AND status = 'running' RETURNING id`,
      [id, JSON.stringify(steps), owner, resumeAt.toISOString()],
    );
    return rows.length === 1;
  }

  /** Gives a running execution back (graceful shutdown): queued again, for any worker. */
  async release(id: string, owner: string, steps: StepWrite[]): Promise<boolean> {
    const { rows } = await this.db.query(
      `WITH s AS (${upsertSteps})
       UPDATE executions SET status = 'queued', enqueued_at = now(), lease_owner = NULL,
         lease_expires_at = NULL
       WHERE id = $1 AND lease_owner = $3 AND status = 'running' RETURNING id`,
      [id, JSON.stringify(steps), owner],
    );
    return rows.length === 1;
  }

  /**
   * Cancels: queued or waiting executions end at once; a running one is
   * flagged and its worker stops it at its next heartbeat.
   */
  async requestCancel(id: string): Promise<Execution> {
    const { rows } = await this.db.query<ExecutionRow>(
      `UPDATE executions SET cancel_requested = true,
         status = CASE WHEN status IN ('queued', 'waiting') THEN 'canceled' ELSE status END,
         finished_at = CASE WHEN status IN ('queued', 'waiting') THEN now() ELSE finished_at END,
         error = CASE WHEN status IN ('queued', 'waiting')
           THEN '{"code":"canceled","message":"canceled by request"}'::jsonb ELSE error END
       WHERE id = $1 AND status NOT IN ${terminalSql} RETURNING *`,
      [id],
    );
    if (rows[0]) return toExecution(rows[0]);
    const existing = await this.get(id);
    throw new UserError(
      'execution_finished',
      `execution ${id} is already ${existing.status} and cannot be canceled`,
      { status: 409 },
    );
  }

  /**
   * "Mark as done": a person checked that the interrupted side effect of a
   * needs_attention execution happened. The execution ends as succeeded with
   * the decision (who, why, when, and the error it replaces) as its result,
   * and the interrupted node's step records the same decision as its output.
   * Nothing runs again; the nodes after the interrupted one stay unrun.
   */
  async markDone(id: string, decision: { by: string; reason: string }): Promise<Execution> {
    const { rows } = await this.db.query<ExecutionRow>(
      `WITH ex AS (
         UPDATE executions SET status = 'succeeded', finished_at = now(), error = NULL,
           result = jsonb_build_object('markedDone', jsonb_build_object(
             'by', $2::text, 'reason', $3::text, 'at', now(), 'error', error))
         WHERE id = $1 AND status = 'needs_attention' RETURNING *),
       st AS (
         UPDATE execution_steps s SET status = 'succeeded', finished_at = now(),
           output = jsonb_build_object('markedDone', ex.result -> 'markedDone')
         FROM ex WHERE s.execution_id = ex.id AND s.status = 'started'
         RETURNING s.node_name)
       SELECT ex.* FROM ex`,
      [id, decision.by, decision.reason],
    );
    if (rows[0]) return toExecution(rows[0]);
    const existing = await this.get(id);
    throw new UserError(
      'not_needs_attention',
      `execution ${id} is ${existing.status}; only a needs_attention execution can be marked as done`,
      { status: 409 },
    );
  }

  /**
   * What the sweep re-enqueues: running executions whose lease expired,
   * waits that are due, and queued ones no worker took for requeueAfterMs
   * (the queue lost them). Marks them so the next sweep skips them for a while.
   */
  async sweep(requeueAfterMs: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE executions SET enqueued_at = now()
       WHERE id IN (
         SELECT id FROM executions WHERE status = 'running' AND lease_expires_at < now()
           AND (enqueued_at < lease_expires_at OR enqueued_at < now() - $1 * interval '1 millisecond')
         UNION ALL
         SELECT id FROM executions WHERE status = 'waiting' AND resume_at <= now()
           AND (enqueued_at < resume_at OR enqueued_at < now() - $1 * interval '1 millisecond')
         UNION ALL
         SELECT id FROM executions WHERE status = 'queued'
           AND enqueued_at < now() - $1 * interval '1 millisecond'
         LIMIT 1000)
       RETURNING id`,
      [requeueAfterMs],
    );
    return rows.map((r) => r.id);
  }

  async get(id: string): Promise<Execution> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('execution', id);
    const { rows } = await this.db.query<ExecutionRow>('SELECT * FROM executions WHERE id = $1', [
      id,
    ]);
    if (!rows[0]) throw notFound('execution', id);
    return toExecution(rows[0]);
  }

  async steps(id: string): Promise<Step[]> {
    const { rows } = await this.db.query<StepRow>(
      'SELECT * FROM execution_steps WHERE execution_id = $1 ORDER BY seq, started_at, node_name',
      [id],
    );
    return rows.map(toStep);
  }

  async list(filter: ExecutionFilter = {}): Promise<Execution[]> {
    return (await this.listWithKeys(filter)).map((r) => r.execution);
  }

  /**
   * Executions newest first, each with its sort key: the exact created_at
   * text (microseconds, which a Date would lose) and the id, so a page can
   * start strictly after the last row of the one before.
   */
  async listWithKeys(
    filter: ExecutionFilter = {},
  ): Promise<{ execution: Execution; key: ExecutionSortKey }[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      let text = sql;
      for (const value of values) {
        params.push(value);
        text = text.replace('?', `$${params.length}`);
      }
      where.push(text);
    };
    if (filter.workflowId !== undefined) add('workflow_id = ?', filter.workflowId);
    if (filter.status !== undefined) add('status = ?', filter.status);
    if (filter.mode !== undefined) add('mode = ?', filter.mode);
    if (filter.after !== undefined)
      add('(created_at, id) < (?::timestamptz, ?::uuid)', filter.after[0], filter.after[1]);
    params.push(Math.min(Math.max(filter.limit ?? 50, 1), 1000));
    const { rows } = await this.db.query<ExecutionRow & { sort_at: string }>(
      `SELECT *, created_at::text AS sort_at FROM executions
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ execution: toExecution(r), key: [r.sort_at, r.id] as const }));
  }

  /** The child execution a parent's node started, if any. */
  async findChild(parentId: string, parentNode: string): Promise<Execution | undefined> {
    const { rows } = await this.db.query<ExecutionRow>(
      'SELECT * FROM executions WHERE parent_execution_id = $1 AND parent_node = $2',
      [parentId, parentNode],
    );
    return rows[0] && toExecution(rows[0]);
  }

  /** Creates the child unless the parent's node already has one; returns the child's id. */
  async createChild(input: NewExecution): Promise<string> {
    const id = randomUUID();
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO executions (id, workflow_id, workflow_version, status, mode, trigger_node,
         trigger_data, timeout_ms, parent_execution_id, parent_node)
       VALUES ($1, $2, $3, 'queued', $4, $5, $6::jsonb, $7, $8, $9)
       ON CONFLICT (parent_execution_id, parent_node) WHERE parent_execution_id IS NOT NULL
       DO NOTHING RETURNING id`,
      [
        id,
        input.workflowId,
        input.workflowVersion,
        input.mode,
        input.triggerNode,
        JSON.stringify(input.triggerItems),
        input.timeoutMs,
        input.parentExecutionId,
        input.parentNode,
      ],
    );
    if (rows[0]) return rows[0].id;
    return (await this.findChild(input.parentExecutionId!, input.parentNode!))!.id;
  }
}
