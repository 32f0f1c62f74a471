// `warden backup create|list|prune|restore`: database backups by hand. The
// main process also takes them on schedule (WARDEN_BACKUP_EVERY_HOURS) and
// deletes the ones older than WARDEN_BACKUP_KEEP_DAYS.
import type { Command } from 'commander';

import type { BackupInfo } from '../backup/backup-service.ts';
import { BackupService } from '../backup/backup-service.ts';
import { UserError } from '../errors.ts';
import { refuseBesideWarden, viaApiOr } from './api-client.ts';
import { cliConfig, withServices } from './context.ts';
import { printJson, printLine, printRows } from './output.ts';
import { formatBytes } from './progress.ts';

type JsonFlag = { json?: boolean };

/** Progress goes to stderr, so stdout holds only the answer. */
const progress = (message: string) => process.stderr.write(`${message}\n`);

/** Lists, prunes and restores need no open database. */
function offline(): BackupService {
  const config = cliConfig();
  return new BackupService(undefined, { settings: config.backup, database: config.database });
}

const describe = (b: BackupInfo) =>
  `${b.path} (${b.kind}, ${formatBytes(b.bytes)}, sha256 ${b.sha256.slice(0, 12)}…)`;

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('database backups');

  backup
    .command('create')
    .description('back the database up now, then delete backups past the retention')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      // Through a running Warden: it holds the database, so it takes the backup.
      const { backup: made, removed } = await viaApiOr(
        async (api) => {
          progress('the running Warden is taking the backup');
          const r = await api.request<{ backup: BackupInfo; removed: string[] }>(
            'POST',
            '/api/v1/backups',
            { body: {} },
          );
          return { ...r, backup: { ...r.backup, createdAt: new Date(r.backup.createdAt) } };
        },
        async (s) => {
          const backup = await s.backups.create(progress);
          return { backup, removed: (await s.backups.prune()).map((r) => r.file) };
        },
      );
      if (opts.json) return printJson({ backup: made, removed });
      printLine(`backup written: ${describe(made)}`);
      for (const r of removed) printLine(`deleted old backup ${r}`);
    });

  backup
    .command('list')
    .description('backups, newest first')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await offline().list();
      printRows(
        rows,
        [
          { header: 'file', value: (b) => b.file },
          { header: 'kind', value: (b) => b.kind },
          { header: 'created', value: (b) => b.createdAt },
          { header: 'size', value: (b) => formatBytes(b.bytes) },
        ],
        opts.json,
      );
    });

  backup
    .command('prune')
    .description('delete backups older than WARDEN_BACKUP_KEEP_DAYS (never the newest)')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const removed = await offline().prune();
      if (opts.json) return printJson({ removed: removed.map((r) => r.file) });
      printLine(
        removed.length ? removed.map((r) => `deleted ${r.file}`).join('\n') : 'nothing to delete',
      );
    });

  backup
    .command('restore <file>')
    .description('replace the database with a backup (embedded database: stop Warden first)')
    .option('--yes', 'yes, replace the current data')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: JsonFlag & { yes?: boolean }) => {
      if (!opts.yes)
        throw new UserError(
          'confirmation_required',
          'restoring replaces everything in the current database with the backup; run again with --yes',
        );
      // The embedded database's files are replaced under the process that has
      // them open: that one must stop first.
      const config = cliConfig();
      if (!config.database.url) await refuseBesideWarden('restoring the embedded database', config);
      const b = await offline().restore(file, progress);
      // The audit chain now ends where the backup did: record that as an event,
      // so verify reads it as a restore and not as removed records. (An embedded
      // restore leaves it for the next start, which opens the database anyway.)
      let anchored: number | undefined;
      if (b.kind === 'pg_dump') {
        progress('recording the restore in the audit chain');
        anchored = await withServices((s) =>
          s.exec.audit.reanchor('chain.restored', { backup: b.file, sha256: b.sha256 }),
        ).then(
          (r) => r.record.seq,
          (err: unknown) => {
            progress(
              `could not record the restore in the audit chain (${err instanceof Error ? err.message : String(err)}); run \`warden audit anchor --event restored\``,
            );
            return undefined;
          },
        );
      }
      if (opts.json) return printJson({ restored: b, auditSeq: anchored ?? null });
      printLine(`restored ${describe(b)}`);
    });
}
