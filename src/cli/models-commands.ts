// `warden models list|pull`: the model of each role, whether the server has
// it, and pulling the missing ones with a progress bar per layer.
import type { Command } from 'commander';

import { createLlmGateway } from '../app.ts';
import { OperationalError } from '../errors.ts';
import { checkRoleModels, pullModels } from '../llm/model-check.ts';
import { roleUse, rolesInUse } from '../llm/model-roles.ts';
import { cliConfig } from './context.ts';
import { printJson, printLine, printRows } from './output.ts';
import { formatBytes, ProgressBars } from './progress.ts';

type JsonFlag = { json?: boolean };

export function registerModelsCommands(program: Command): void {
  const models = program.command('models').description('models of each role on the model server');

  models
    .command('list')
    .description("each role's model and whether the model server has it")
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const config = cliConfig();
      const report = await checkRoleModels(createLlmGateway(config), rolesInUse(config));
      if (opts.json) return printJson(report);
      if (!report.reachable) printLine(`model server unreachable: ${report.error}`);
      printRows(
        report.roles,
        [
          { header: 'role', value: (r) => r.role },
          { header: 'model', value: (r) => r.model },
          {
            header: 'present',
            value: (r) => (report.reachable ? (r.present ? 'yes' : 'no') : '?'),
          },
          {
            header: 'size',
            value: (r) => (r.size !== undefined ? formatBytes(r.size) : undefined),
          },
          { header: 'used for', value: (r) => (r.inUse ? roleUse[r.role] : 'not used') },
          { header: 'set with', value: (r) => r.env },
        ],
        false,
      );
      const missing = report.roles.filter((r) => r.inUse && !r.present);
      if (report.reachable && missing.length > 0)
        printLine(`\n${missing.length} missing: run \`warden models pull\``);
    });

  models
    .command('pull [models...]')
    .description(
      'download models; without names, the models of the roles in use that the server lacks',
    )
    .option('--json', 'machine-readable output (one JSON line per progress event, then the result)')
    .action(async (names: string[], opts: JsonFlag) => {
      const config = cliConfig();
      const llm = createLlmGateway(config);
      let wanted = names;
      if (wanted.length === 0) {
        const report = await checkRoleModels(llm, rolesInUse(config));
        if (!report.reachable)
          throw new OperationalError('llm_unavailable', `Cannot pull: ${report.error}`);
        wanted = [
          ...new Set(report.roles.filter((r) => r.inUse && !r.present).map((r) => r.model)),
        ];
        if (wanted.length === 0) {
          if (opts.json) return printJson([]);
          return printLine('every model in use is present');
        }
      }
      const bars = new ProgressBars(process.stdout);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      try {
        const results = await pullModels(
          llm,
          wanted,
          (model, p) => {
            if (opts.json) return process.stdout.write(`${JSON.stringify({ model, ...p })}\n`);
            if (p.digest && p.total)
              bars.update(p.digest, `${model} ${p.digest.slice(7, 19)}`, p.completed ?? 0, p.total);
            else bars.status(`${model}: ${p.status}`);
          },
          ac.signal,
        );
        if (opts.json) printJson(results);
        else
          for (const r of results)
            printLine(
              r.status === 'pulled' ? `pulled ${r.model}` : `failed ${r.model}: ${r.error}`,
            );
        const failed = results.filter((r) => r.status === 'failed');
        if (failed.length > 0)
          throw new OperationalError(
            'pull_failed',
            `${failed.length} of ${results.length} pull(s) failed: ${failed.map((f) => f.model).join(', ')}`,
          );
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
