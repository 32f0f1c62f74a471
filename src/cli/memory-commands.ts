// `warden memory status|reindex`: what incident memory holds, and
// re-embedding everything after the embedder changed.
import type { Command } from 'commander';

import { withServices } from './context.ts';
import { printJson, printLine } from './output.ts';
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
