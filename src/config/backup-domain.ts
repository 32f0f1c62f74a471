// Database backups: where they go, how often, how long they are kept, and
// the PostgreSQL client programs that make and restore them.
import { z } from 'zod';

import { domain, envBoolean, setting } from './setting.ts';

export const backupDomain = domain('backup', 'Database backups: daily, rotated, restorable.', {
  enabled: setting({
    env: 'WARDEN_BACKUP_ENABLED',
    schema: envBoolean,
    default: true,
    doc: 'Take backups on schedule in the main process (`warden backup create` works either way).',
  }),
  dir: setting({
    env: 'WARDEN_BACKUP_DIR',
    schema: z.string().min(1).optional(),
    doc: 'Directory for backups. Unset: <data dir>/backups.',
  }),
  everyHours: setting({
    env: 'WARDEN_BACKUP_EVERY_HOURS',
    schema: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 7),
    default: 24,
    doc: 'Hours between scheduled backups. With the embedded database, a scheduled backup that finds the process busy waits for a quiet moment (at most 30 minutes), since its snapshot holds every query.',
  }),
  keepDays: setting({
    env: 'WARDEN_BACKUP_KEEP_DAYS',
    schema: z.coerce.number().int().min(1).max(3650),
    default: 7,
    doc: 'Backups older than this many days are deleted after each backup; the newest one is always kept.',
  }),
  pgDump: setting({
    env: 'WARDEN_PG_DUMP',
    schema: z.string().min(1),
    default: 'pg_dump',
    doc: "pg_dump program (PostgreSQL only), a name on PATH or a path; use the server's major version or newer.",
  }),
  pgRestore: setting({
    env: 'WARDEN_PG_RESTORE',
    schema: z.string().min(1),
    default: 'pg_restore',
    doc: 'pg_restore program (PostgreSQL only), a name on PATH or a path.',
  }),
});
