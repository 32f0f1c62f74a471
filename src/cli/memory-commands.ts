// `warden memory status|list|show|search|forget|reindex`: what incident
// memory holds, what it would match, and re-embedding everything after the
// embedder changed.
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import { withServices } from './context.ts';
import { printJson, printLine, printRows } from './output.ts';
import { ProgressCounter } from './progress.ts';

type JsonFlag = { json?: boolean };

export function registerMemoryCommands(program: Command): void {
  const memory = program.command('memory').description('incident memory');

  memory
    .command('status')
    .description('embedder, vector store and how many incidents need re-embedding')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const status = await withServices((s) => s.memory.status());
      if (opts.json) return printJson(status);
      printLine(`embedder   ${status.embedder} (${status.dimension} dimensions)`);
      printLine(`store      ${status.store}`);
      printLine(`incidents  ${status.incidents}`);
      printLine(
        `stale      ${status.stale}${status.stale > 0 ? '  (run `warden memory reindex`)' : ''}`,
      );
    });

  memory
    .command('list')
    .description('remembered incidents, newest first')
    .option('--service <name>', 'only this service')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { service?: string; limit: string }) => {
      const rows = await withServices((s) =>
        s.memory.list({
          limit: Math.max(1, Number(opts.limit) || 50),
          ...(opts.service ? { service: opts.service } : {}),
        }),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (i) => i.id },
          { header: 'service', value: (i) => i.service },
          { header: 'title', value: (i) => i.title },
          {
            header: 'fix',
            value: (i) => (i.fix ? `${i.fix.action} ${JSON.stringify(i.fix.parameters)}` : null),
          },
          {
            header: 'verified',
            value: (i) => (i.fixBlocked ? 'blocked' : i.verified ? 'yes' : 'no'),
          },
        ],
        opts.json,
      );
    });

  memory
    .command('search <text...>')
    .description(
      'the past incidents most like an alert, with scores and whether their fix would run',
    )
    .option('--service <name>', "only this service's incidents, as auto-healing searches")
    .option('--top <n>', 'how many', '3')
    .option('--json', 'machine-readable output')
    .action(async (words: string[], opts: JsonFlag & { service?: string; top: string }) => {
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1 || top > 20)
        throw new UserError(
          'invalid_option',
          `--top must be a whole number from 1 to 20, not "${opts.top}"`,
        );
      const { matches, threshold } = await withServices(async (s) => ({
        threshold: s.memory.threshold,
        matches: await s.memory.similar(words.join(' '), {
          topK: top,
          ...(opts.service ? { service: opts.service } : {}),
        }),
      }));
      if (opts.json) return printJson({ threshold, matches });
      printRows(
        matches,
        [
          { header: 'id', value: (m) => m.incident.id },
          { header: 'score', value: (m) => m.score.toFixed(3) },
          { header: 'service', value: (m) => m.incident.service },
          { header: 'title', value: (m) => m.incident.title },
          {
            header: 'fix runs by itself',
            value: (m) => (m.autoApply ? 'yes' : `no: ${m.reason ?? ''}`),
          },
        ],
        false,
      );
    });

  memory
    .command('show <id>')
    .description('one remembered incident')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const i = await withServices((s) => s.memory.get(id));
      if (opts.json) return printJson(i);
      printLine(`${i.id}: ${i.title}`);
      printLine(`service    ${i.service ?? '-'}`);
      printLine(`root cause ${i.rootCause || '-'}`);
      printLine(
        `fix        ${i.fix ? `${i.fix.action} ${JSON.stringify(i.fix.parameters)}` : '-'}`,
      );
      printLine(
        `verified   ${i.verified}${i.fixBlocked ? ' (blocked: it failed verification once)' : ''}; worked ${i.successCount}, failed ${i.failureCount}`,
      );
    });

  memory
    .command('forget <id>')
    .description('forget a remembered incident (its fix will not be reused)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      await withServices((s) => s.memory.forget(id));
      if (opts.json) printJson({ forgotten: id });
      else printLine(`forgot incident ${id}`);
    });

  memory
    .command('reindex')
    .description('re-embed every incident with the configured embedder (MEMORY_EMBEDDER)')
    .option('--batch-size <n>', 'incidents embedded per request', '32')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { batchSize: string }) => {
      const counter = new ProgressCounter(
        opts.json ? { write: () => true } : process.stdout,
        'reindexing',
      );
      const result = await withServices(async (s) => {
        const r = await s.memory.reindex({
          batchSize: Math.max(1, Number(opts.batchSize) || 32),
          onProgress: (done, total) => counter.update(done, total),
        });
        return { ...r, embedder: s.embedder.id, store: s.vectorStore.kind };
      });
      if (opts.json) printJson(result);
      else
        printLine(
          `reindexed ${result.reindexed} incident(s) with ${result.embedder} into ${result.store}`,
        );
    });
}
