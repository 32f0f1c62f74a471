// `warden audit verify` and `warden actions list|run`.
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import type { ActionView } from '../exec/action-catalogue.ts';
import { actionView } from '../exec/action-catalogue.ts';
import type { ChainCheck, StoredRecord } from '../exec/audit-log.ts';
import type { ExecOutcome } from '../exec/executor.ts';
import { viaApiOr } from './api-client.ts';
import { printJson, printLine, printRows } from './output.ts';

type JsonFlag = { json?: boolean };

function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UserError('invalid_param', `--param takes name=value; got "${p}"`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function registerExecCommands(program: Command): void {
  const audit = program.command('audit').description('the execution audit log');
  audit
    .command('verify')
    .description(
      'check the hash chain in the database and the JSONL file; names the first broken record',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const result = await viaApiOr(
        (api) =>
          api.request<{ ok: boolean; database: ChainCheck; file: ChainCheck }>(
            'GET',
            '/api/v1/audit/verify',
          ),
        (s) => s.exec.audit.verify(),
      );
      if (opts.json) printJson(result);
      else
        for (const [where, r] of [
          ['database', result.database],
          ['file', result.file],
        ] as const)
          printLine(
            r.ok
              ? `${where}: ok, ${r.records} record(s)`
              : `${where}: BROKEN at record ${r.brokenSeq}: ${r.reason}`,
          );
      if (!result.ok) throw new UserError('audit_broken', 'the audit chain is broken');
    });

  audit
    .command('anchor')
    .description(
      'record a legitimate break in the chain (a restore, a move to another database) and re-anchor it there',
    )
    .requiredOption('--event <event>', "'restored' or 'migrated'")
    .option('--note <text>', 'why, in a few words')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { event: string; note?: string }) => {
      if (opts.event !== 'restored' && opts.event !== 'migrated')
        throw new UserError(
          'invalid_event',
          `--event takes 'restored' or 'migrated'; got "${opts.event}"`,
        );
      const event = opts.event === 'restored' ? 'chain.restored' : 'chain.migrated';
      const r = await viaApiOr(
        (api) =>
          api.request<{ record: StoredRecord; previousFile?: string }>(
            'POST',
            '/api/v1/audit/anchor',
            { body: { event, ...(opts.note ? { note: opts.note } : {}) } },
          ),
        (s) => s.exec.audit.reanchor(event, opts.note ? { note: opts.note } : {}),
      );
      if (opts.json) printJson(r);
      else
        printLine(
          `recorded ${event} as record ${r.record.seq}${r.previousFile ? `; the old file is kept as ${r.previousFile}` : ''}`,
        );
    });

  const actions = program.command('actions').description('the action catalogue');
  actions
    .command('list')
    .description('catalogue actions with their risk and parameters')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await viaApiOr(
        (api) => api.listAll<ActionView>('/api/v1/actions', 'actions'),
        async (s) => (await s.exec.catalogue.list()).map(actionView),
      );
      printRows(
        rows,
        [
          { header: 'name', value: (a) => a.name },
          { header: 'risk', value: (a) => a.risk },
          { header: 'params', value: (a) => Object.keys(a.params).join(', ') || '-' },
          { header: 'source', value: (a) => a.source },
          { header: 'description', value: (a) => a.description },
        ],
        opts.json,
      );
    });
  actions
    .command('run <name>')
    .description('run a catalogue action (audited as the CLI)')
    .option(
      '--param <name=value>',
      'a parameter; repeat for more',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: JsonFlag & { param: string[] }) => {
      const params = parseParams(opts.param);
      const out = await viaApiOr(
        (api) =>
          api.request<ExecOutcome>('POST', `/api/v1/actions/${encodeURIComponent(name)}/run`, {
            body: { params },
          }),
        (s) => s.exec.executor.runAction(name, params, { kind: 'cli' }),
      );
      if (opts.json) printJson(out);
      else if (out.status === 'refused') printLine(`refused (${out.rule}): ${out.reason}`);
      else if (out.status === 'done') printJson(out.result);
      else {
        process.stdout.write(out.stdout);
        process.stderr.write(out.stderr);
        if (out.verify)
          printLine(`verify: ${out.verify.ok ? 'ok' : `failed (exit ${out.verify.exitCode})`}`);
      }
      if (out.status === 'refused') throw new UserError('action_refused', `refused by ${out.rule}`);
      if (out.status === 'ran' && out.exitCode !== 0) process.exitCode = 1;
    });
}
