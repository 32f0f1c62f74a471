// The workflows MCP server: an agent lists Warden's workflows, reads their
// definitions, starts a manual run and reads executions. run_workflow is the
// only tool that changes anything; nothing here creates, edits, activates or
// deletes a workflow.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import type { Engine } from '../engine/engine.ts';
import type { Execution } from '../engine/execution-store.ts';
import { executionStatuses, terminalStatuses } from '../engine/execution-store.ts';
import { UserError } from '../errors.ts';
import { guardTool, readOnly, toolText as text } from './tool-results.ts';

export type WorkflowsServerOptions = {
  engine: Engine;
  version: string;
  /** Longest run_workflow may wait for a result. @default 60 s */
  maxWaitMs?: number;
};

function summary(ex: Execution) {
  return {
    id: ex.id,
    workflowId: ex.workflowId,
    workflowVersion: ex.workflowVersion,
    status: ex.status,
    mode: ex.mode,
    createdAt: ex.createdAt,
    startedAt: ex.startedAt,
    finishedAt: ex.finishedAt,
    ...(ex.error ? { error: ex.error } : {}),
  };
}

async function detail(engine: Engine, id: string, withData: boolean) {
  const ex = await engine.executions.get(id);
  const steps = await engine.executions.steps(id);
  return {
    ...summary(ex),
    triggerNode: ex.triggerNode,
    retryOf: ex.retryOf,
    ...(terminalStatuses.includes(ex.status) ? { result: ex.result } : {}),
    steps: steps.map((s) => ({
      node: s.nodeName,
      status: s.status,
      attempts: s.attempts,
      durationMs: s.durationMs,
      ...(s.error ? { error: s.error } : {}),
      ...(withData ? { output: s.output, truncated: s.truncated } : {}),
    })),
  };
}

export function createWorkflowsServer(options: WorkflowsServerOptions): McpServer {
  const { engine } = options;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const server = new McpServer(
    { name: 'warden-workflows', version: options.version },
    {
      instructions:
        "Warden's workflows: list_workflows and get_workflow to see them, run_workflow to start one manually (optionally waiting for its result), get_execution and list_executions to follow runs. Workflows cannot be created or changed here.",
    },
  );
  const run = <A>(fn: (args: A) => Promise<CallToolResult>) => guardTool(fn);

  server.registerTool(
    'list_workflows',
    {
      title: 'List workflows',
      description:
        'Every workflow: id, name, whether it is active, its current and active version.',
      inputSchema: {
        active: z.boolean().optional().describe('only active (true) or inactive (false) ones'),
      },
      annotations: readOnly,
    },
    run(async ({ active }: { active?: boolean }) => {
      const all = await engine.workflows.list();
      return text(
        all
          .filter((w) => active === undefined || w.active === active)
          .map((w) => ({
            id: w.id,
            name: w.name,
            active: w.active,
            currentVersion: w.currentVersion,
            activeVersion: w.activeVersion,
            updatedAt: w.updatedAt,
          })),
      );
    }),
  );

  server.registerTool(
    'get_workflow',
    {
      title: 'Get a workflow',
      description:
        'A workflow with its definition (nodes, connections, settings), at its current or a given version.',
      inputSchema: {
        id: z.number().int().min(1).describe('workflow id'),
        version: z.number().int().min(1).optional().describe('version (default: current)'),
      },
      annotations: readOnly,
    },
    run(async ({ id, version }: { id: number; version?: number }) => {
      const wf = await engine.workflows.get(id);
      const definition =
        version === undefined ? wf.definition : await engine.workflows.version(id, version);
      return text({
        id: wf.id,
        name: wf.name,
        active: wf.active,
        currentVersion: wf.currentVersion,
        activeVersion: wf.activeVersion,
        version: version ?? wf.currentVersion,
        definition,
      });
    }),
  );

  server.registerTool(
    'run_workflow',
    {
      title: 'Run a workflow',
      description: `Starts a manual execution of a workflow from its manual trigger (or the named trigger node) with the given input items, on its active version (or the current one when inactive, or the version given). Returns the execution id; with wait, waits up to waitSeconds (at most ${Math.round(maxWaitMs / 1000)}) for the result. What the workflow does is up to its nodes: it may call services or change things.`,
      inputSchema: {
        id: z.number().int().min(1).describe('workflow id'),
        items: z
          .array(z.record(z.unknown()))
          .max(1000)
          .optional()
          .describe('input items, each a JSON object (default: one empty item)'),
        triggerNode: z.string().max(200).optional().describe('trigger node name'),
        version: z.number().int().min(1).optional().describe('workflow version'),
        wait: z.boolean().optional().describe('wait for the execution to end'),
        waitSeconds: z
          .number()
          .min(1)
          .max(Math.max(1, Math.round(maxWaitMs / 1000)))
          .optional()
          .describe('how long to wait (default 30 s)'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    run(
      async (args: {
        id: number;
        items?: Record<string, unknown>[];
        triggerNode?: string;
        version?: number;
        wait?: boolean;
        waitSeconds?: number;
      }) => {
        const wf = await engine.workflows.get(args.id);
        const version = args.version ?? wf.activeVersion ?? wf.currentVersion;
        const executionId = await engine.runManual(args.id, args.items ?? [{}], {
          version,
          ...(args.triggerNode ? { triggerNode: args.triggerNode } : {}),
        });
        if (!args.wait)
          return text({ executionId, workflowId: args.id, version, status: 'queued' });
        const timeoutMs = Math.min((args.waitSeconds ?? 30) * 1000, maxWaitMs);
        try {
          await engine.waitForStatus(executionId, terminalStatuses, timeoutMs);
        } catch (err) {
          if (!(err instanceof UserError && err.code === 'wait_timeout')) throw err;
          const ex = await engine.executions.get(executionId);
          return text({
            executionId,
            status: ex.status,
            waited: `still ${ex.status} after ${timeoutMs / 1000} s; follow it with get_execution`,
          });
        }
        const out = await detail(engine, executionId, false);
        return text({ executionId, ...out }, out.status !== 'succeeded');
      },
    ),
  );

  server.registerTool(
    'get_execution',
    {
      title: 'Get an execution',
      description:
        'One execution: status, result (once ended), error, and a summary of its steps (with each step output when includeData is set).',
      inputSchema: {
        id: z.string().uuid().describe('execution id'),
        includeData: z.boolean().optional().describe("include each step's output"),
      },
      annotations: readOnly,
    },
    run(async ({ id, includeData }: { id: string; includeData?: boolean }) =>
      text(await detail(engine, id, includeData ?? false)),
    ),
  );

  server.registerTool(
    'list_executions',
    {
      title: 'List executions',
      description: 'Executions, newest first, filtered by workflow, status or mode.',
      inputSchema: {
        workflowId: z.number().int().min(1).optional(),
        status: z.enum(executionStatuses).optional(),
        mode: z.string().max(32).optional().describe('manual, webhook, schedule, retry, error...'),
        limit: z.number().int().min(1).max(200).optional().describe('default 20'),
      },
      annotations: readOnly,
    },
    run(
      async (f: {
        workflowId?: number;
        status?: (typeof executionStatuses)[number];
        mode?: string;
        limit?: number;
      }) => {
        const list = await engine.executions.list({ ...f, limit: f.limit ?? 20 });
        return text(list.map(summary));
      },
    ),
  );

  return server;
}
