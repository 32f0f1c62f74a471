// `warden workflows import|export|list|activate|deactivate|run` and
// `warden executions list|get`.
import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import type { Execution, ExecutionStatus, Step } from '../engine/execution-store.ts';
import type { Workflow, WorkflowSummary } from '../engine/workflow-store.ts';
import { executionStatuses } from '../engine/execution-store.ts';
import { webhookWarnings } from '../engine/webhook-exposure.ts';
import type { WorkflowDefinition } from '../engine/workflow-model.ts';
import { UserError } from '../errors.ts';
import { viaApiOr } from './api-client.ts';
import { printJson, printLine, printRows } from './output.ts';

type JsonFlag = { json?: boolean };

function positiveId(value: string, what = 'workflow id'): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError('invalid_id', `${what} must be a positive integer; got "${value}"`);
  return n;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError('file_unreadable', `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_json', `${file} is not JSON: ${(err as Error).message}`);
  }
}

/** Webhooks anyone may call are a choice made in sight: said on stderr, never silently. */
function warnUnauthenticated(def: WorkflowDefinition): void {
  for (const w of webhookWarnings(def)) process.stderr.write(`warning: ${w}\n`);
}

function getWorkflow(id: number): Promise<Workflow> {
  return viaApiOr(
    (api) => api.request<Workflow>('GET', `/api/v1/workflows/${id}`),
    (s) => s.engine.workflows.get(id),
  );
}

export function registerWorkflowCommands(program: Command): void {
  const wf = program.command('workflows').description('manage workflows');
  wf.command('import <file>')
    .description(
      'import a workflow JSON file (or an array of them); --id saves it as a new version of that workflow',
    )
    .option('--id <id>', 'workflow to update instead of creating one')
    .option('--activate', 'activate after import')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: JsonFlag & { id?: string; activate?: boolean }) => {
      const doc = readJson(file);
      const docs = Array.isArray(doc) ? doc : [doc];
      if (opts.id && docs.length !== 1)
        throw new UserError('invalid_input', '--id takes a file with one workflow');
      const id = opts.id ? positiveId(opts.id) : undefined;
      const saved = await viaApiOr(
        async (api) => {
          const out: Workflow[] = [];
          for (const d of docs) {
            let w = id
              ? await api.request<Workflow>('PUT', `/api/v1/workflows/${id}`, { body: d })
              : await api.request<Workflow>('POST', '/api/v1/workflows', { body: d });
            if (opts.activate)
              w = await api.request<Workflow>('POST', `/api/v1/workflows/${w.id}/activate`);
            out.push(w);
          }
          return out;
        },
        async (s) => {
          const out = [];
          for (const d of docs) {
            let w = id ? await s.engine.updateWorkflow(id, d) : await s.engine.createWorkflow(d);
            if (opts.activate) w = await s.engine.setActive(w.id, true);
            out.push(w);
          }
          return out;
        },
      );
      for (const w of saved) if (w.active) warnUnauthenticated(w.definition);
      if (opts.json) printJson(saved);
      else
        for (const w of saved)
          printLine(
            `imported "${w.name}" as workflow ${w.id} version ${w.currentVersion}${w.active ? ' (active)' : ''}`,
          );
    });
  wf.command('export <id>')
    .description('write a workflow (its latest version) as JSON to a file or standard output')
    .option('-o, --output <file>', 'file to write')
    .action(async (id: string, opts: { output?: string }) => {
      const w = await getWorkflow(positiveId(id));
      const text = `${JSON.stringify(w.definition, null, 2)}\n`;
      if (opts.output) {
        writeFileSync(opts.output, text);
        printLine(`wrote workflow ${w.id} version ${w.currentVersion} to ${opts.output}`);
      } else process.stdout.write(text);
    });
  wf.command('get <id>')
    .description('one workflow with its latest definition (JSON)')
    .action(async (id: string) => printJson(await getWorkflow(positiveId(id))));
  wf.command('run <id>')
    .description(
      'run a workflow now (manual trigger); with no Warden running it is queued until one starts',
    )
    .option('--items <json>', 'input items, a JSON array of objects')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag & { items?: string }) => {
      const n = positiveId(id);
      let items: Record<string, unknown>[] | undefined;
      if (opts.items !== undefined) {
        try {
          items = JSON.parse(opts.items) as Record<string, unknown>[];
        } catch (err) {
          throw new UserError('invalid_json', `--items is not JSON: ${(err as Error).message}`);
        }
        if (!Array.isArray(items))
          throw new UserError('invalid_input', '--items must be a JSON array of objects');
      }
      const started = await viaApiOr(
        (api) =>
          api.request<{ executionId: string; status: string }>(
            'POST',
            `/api/v1/workflows/${n}/run`,
            { body: items ? { items } : {} },
          ),
        async (s) => ({ executionId: await s.engine.runManual(n, items), status: 'queued' }),
      );
      if (opts.json) printJson(started);
      else printLine(`execution ${started.executionId} ${started.status}`);
    });
  wf.command('list')
    .description('list workflows')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await viaApiOr(
        (api) => api.listAll<WorkflowSummary>('/api/v1/workflows', 'workflows'),
        (s) => s.engine.workflows.list(),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (w) => w.id },
          { header: 'name', value: (w) => w.name },
          { header: 'active', value: (w) => (w.active ? `yes (v${w.activeVersion})` : 'no') },
          { header: 'version', value: (w) => w.currentVersion },
          { header: 'updated', value: (w) => w.updatedAt },
        ],
        opts.json,
      );
    });
  for (const action of ['activate', 'deactivate'] as const) {
    wf.command(`${action} <id>`)
      .description(`${action} a workflow`)
      .action(async (id: string) => {
        const n = positiveId(id);
        const w = await viaApiOr(
          (api) => api.request<Workflow>('POST', `/api/v1/workflows/${n}/${action}`),
          (s) => s.engine.setActive(n, action === 'activate'),
        );
        printLine(
          `workflow ${w.id} is ${w.active ? `active (version ${w.activeVersion})` : 'inactive'}`,
        );
        if (w.active) warnUnauthenticated(w.definition);
      });
  }

  const ex = program.command('executions').description('inspect executions');
  ex.command('list')
    .description('list executions, newest first')
    .option('--workflow <id>', 'only this workflow')
    .option('--status <status>', `only this status (${executionStatuses.join(', ')})`)
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { workflow?: string; status?: string; limit: string }) => {
      if (opts.status && !executionStatuses.includes(opts.status as ExecutionStatus))
        throw new UserError(
          'invalid_status',
          `--status must be one of ${executionStatuses.join(', ')}`,
        );
      const filter = {
        workflowId: opts.workflow ? positiveId(opts.workflow) : undefined,
        status: opts.status as ExecutionStatus | undefined,
        limit: positiveId(opts.limit, '--limit'),
      };
      const rows = await viaApiOr(
        async (api) =>
          (
            await api.request<{ executions: Execution[] }>('GET', '/api/v1/executions', {
              query: filter,
            })
          ).executions,
        (s) => s.engine.executions.list(filter),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (e) => e.id },
          { header: 'workflow', value: (e) => `${e.workflowId} v${e.workflowVersion}` },
          { header: 'status', value: (e) => e.status },
          { header: 'mode', value: (e) => e.mode },
          { header: 'created', value: (e) => e.createdAt },
          { header: 'error', value: (e) => e.error?.message },
        ],
        opts.json,
      );
    });
  ex.command('get <id>')
    .description('one execution with its steps (JSON)')
    .action(async (id: string) => {
      const out = await viaApiOr(
        (api) =>
          api.request<Execution & { steps: Step[] }>(
            'GET',
            `/api/v1/executions/${encodeURIComponent(id)}`,
          ),
        async (s) => {
          const e = await s.engine.executions.get(id);
          return { ...e, steps: await s.engine.executions.steps(id) };
        },
      );
      printJson(out);
    });
}
