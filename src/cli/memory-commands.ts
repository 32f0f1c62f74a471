// `warden memory status|list|show|search|edit|forget|import|export|reindex`:
// what incident memory holds, what the gate would do for an alert, operators'
// corrections and runbooks, and re-embedding everything after the embedder
// changed.
import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { errorMessage, UserError } from '../errors.ts';
import type { SearchGate } from '../healing/healing-service.ts';
import type { SimilarIncident, StoredIncident } from '../memory/incident-memory.ts';
import { viaApiOr } from './api-client.ts';
import { collect, paramPairs } from './incident-commands.ts';
import { printJson, printLine, printRows } from './output.ts';
import { ProgressCounter } from './progress.ts';

type JsonFlag = { json?: boolean };
type MemoryStatus = {
  embedder: string;
  dimension: number;
  store: string;
  incidents: number;
  stale: number;
};

/** A remembered incident's id as the API takes it: digits. */
function memoryId(id: string): string {
  if (!/^[0-9]{1,18}$/.test(id))
    throw new UserError('invalid_argument', `a memory id is a number; got "${id}"`);
  return id;
}

export function registerMemoryCommands(program: Command): void {
  const memory = program.command('memory').description('incident memory');

  memory
    .command('status')
    .description('embedder, vector store and how many incidents need re-embedding')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const status = await viaApiOr(
        (api) => api.request<MemoryStatus>('GET', '/api/v1/memory/status'),
        (s) => s.memory.status(),
      );
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
      const filter = {
        limit: Math.max(1, Number(opts.limit) || 50),
        ...(opts.service ? { service: opts.service } : {}),
      };
      const rows = await viaApiOr(
        async (api) =>
          (
            await api.request<{ incidents: StoredIncident[] }>('GET', '/api/v1/memory', {
              query: filter,
            })
          ).incidents,
        (s) => s.memory.list(filter),
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
      'the past incidents most like an alert, and what the gate would do with each: risk, evidence and why',
    )
    .option('--service <name>', "only this service's incidents, as auto-healing searches")
    .option('--logs <file>', "the alert's logs, looked in for each fix's evidence")
    .option('--probe', "run the candidates' read-only probes, as the real gate does")
    .option('--top <n>', 'how many', '3')
    .option('--json', 'machine-readable output')
    .action(
      async (
        words: string[],
        opts: JsonFlag & { service?: string; top: string; logs?: string; probe?: boolean },
      ) => {
        const top = Number(opts.top);
        if (!Number.isInteger(top) || top < 1 || top > 20)
          throw new UserError(
            'invalid_option',
            `--top must be a whole number from 1 to 20, not "${opts.top}"`,
          );
        let logs = '';
        if (opts.logs) {
          try {
            logs = readFileSync(opts.logs, 'utf8');
          } catch (err) {
            throw new UserError(
              'invalid_option',
              `--logs: cannot read ${opts.logs}: ${errorMessage(err)}`,
            );
          }
        }
        const text = words.join(' ');
        const { matches, threshold } = await viaApiOr(
          (api) =>
            api.request<{ threshold: number; matches: (SimilarIncident & { gate: SearchGate })[] }>(
              'POST',
              '/api/v1/memory/search',
              {
                body: {
                  text,
                  ...(logs ? { logs } : {}),
                  topK: top,
                  runProbes: opts.probe ?? false,
                  ...(opts.service ? { service: opts.service } : {}),
                },
              },
            ),
          async (s) => ({
            threshold: s.memory.threshold,
            matches: await s.healing.explain([text, logs].filter(Boolean).join('\n'), {
              topK: top,
              runProbes: opts.probe ?? false,
              ...(opts.service ? { service: opts.service } : {}),
            }),
          }),
        );
        if (opts.json) return printJson({ threshold, matches });
        printRows(
          matches,
          [
            { header: 'id', value: (m) => m.incident.id },
            { header: 'score', value: (m) => m.score.toFixed(3) },
            { header: 'service', value: (m) => m.incident.service },
            { header: 'title', value: (m) => m.incident.title },
            { header: 'risk', value: (m) => m.gate.risk ?? null },
            { header: 'evidence', value: (m) => m.gate.evidence?.status ?? null },
            { header: 'gate', value: (m) => `${m.gate.decision}: ${m.gate.reason}` },
          ],
          false,
        );
      },
    );

  memory
    .command('edit <id>')
    .description('correct a remembered fix: its fix, root cause or evidence; or disable it')
    .option('--fix <action>', 'the catalogue action that fixes it')
    .option('--param <key=value>', "a parameter of the fix's action (repeatable)", collect, [])
    .option('--root-cause <text>', 'what caused it')
    .option(
      '--evidence <log line>',
      'a log line that shows the cause (repeatable; replaces the evidence)',
      collect,
      [],
    )
    .option('--disable', 'never nominate this fix again')
    .option('--enable', 'nominate it again')
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        opts: JsonFlag & {
          fix?: string;
          param: string[];
          rootCause?: string;
          evidence: string[];
          disable?: boolean;
          enable?: boolean;
        },
      ) => {
        if (opts.disable && opts.enable)
          throw new UserError('invalid_option', '--disable and --enable contradict each other');
        if (opts.param.length && !opts.fix)
          throw new UserError('invalid_option', '--param needs --fix: give the whole fix');
        const correction = {
          ...(opts.fix ? { fix: { action: opts.fix, parameters: paramPairs(opts.param) } } : {}),
          ...(opts.rootCause !== undefined ? { rootCause: opts.rootCause } : {}),
          ...(opts.evidence.length ? { evidenceLines: opts.evidence } : {}),
          ...(opts.disable ? { disabled: true } : opts.enable ? { disabled: false } : {}),
        };
        const i = await viaApiOr(
          (api) =>
            api.request<StoredIncident>('PATCH', `/api/v1/memory/${memoryId(id)}`, {
              body: correction,
            }),
          (s) => s.healing.editMemory(id, correction),
        );
        if (opts.json) return printJson(i);
        printLine(
          `${i.id}: ${i.fix ? `${i.fix.action} ${JSON.stringify(i.fix.parameters)}` : 'no fix'}${i.disabled ? ' (disabled)' : ''}`,
        );
        for (const t of i.evidence) printLine(`evidence   ${t}`);
      },
    );

  memory
    .command('import <file>')
    .description('import runbooks (YAML): known problems with symptoms, evidence, probes and fix')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: JsonFlag) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UserError('invalid_argument', `cannot read ${file}: ${errorMessage(err)}`);
      }
      const stored = await viaApiOr(
        async (api) =>
          (
            await api.request<{ imported: StoredIncident[] }>('POST', '/api/v1/memory/import', {
              body: { yaml: text },
            })
          ).imported,
        (s) => s.healing.importRunbooks(text),
      );
      if (opts.json) return printJson({ imported: stored });
      printLine(`imported ${stored.length} runbook(s): ${stored.map((m) => m.id).join(', ')}`);
    });

  memory
    .command('export')
    .description('every remembered fix as a runbook file (YAML), importable again')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (opts: { out?: string }) => {
      const text = await viaApiOr(
        (api) => api.text('/api/v1/memory/export'),
        (s) => s.healing.exportRunbooks(),
      );
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });

  memory
    .command('show <id>')
    .description('one remembered incident')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const i = await viaApiOr(
        (api) => api.request<StoredIncident>('GET', `/api/v1/memory/${memoryId(id)}`),
        (s) => s.memory.get(id),
      );
      if (opts.json) return printJson(i);
      printLine(`${i.id}: ${i.title}`);
      printLine(`service    ${i.service ?? '-'}`);
      printLine(`root cause ${i.rootCause || '-'}`);
      for (const t of i.evidence) printLine(`evidence   ${t}`);
      for (const p of i.probes)
        printLine(`probe      ${p.action} ${JSON.stringify(p.parameters)} expects "${p.expect}"`);
      if (i.disabled) printLine('disabled   yes (never nominated)');
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
      await viaApiOr(
        (api) => api.request<undefined>('DELETE', `/api/v1/memory/${memoryId(id)}`),
        (s) => s.memory.forget(id),
      );
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
      const batchSize = Math.max(1, Number(opts.batchSize) || 32);
      // Through a running Warden the work happens there, in one request: no
      // progress to show until it answers.
      const result = await viaApiOr(
        (api) =>
          api.request<{ reindexed: number; embedder: string; store: string }>(
            'POST',
            '/api/v1/memory/reindex',
            { body: { batchSize } },
          ),
        async (s) => {
          const r = await s.memory.reindex({
            batchSize,
            onProgress: (done, total) => counter.update(done, total),
          });
          return { ...r, embedder: s.embedder.id, store: s.vectorStore.kind };
        },
      );
      if (opts.json) printJson(result);
      else
        printLine(
          `reindexed ${result.reindexed} incident(s) with ${result.embedder} into ${result.store}`,
        );
    });
}
