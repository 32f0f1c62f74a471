// `warden maintenance add|list|remove`: windows during which firing alerts
// open nothing.
import { userInfo } from 'node:os';

import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import type { MaintenanceWindow } from '../incidents/maintenance.ts';
import { viaApiOr } from './api-client.ts';
import { positiveInt } from './incident-commands.ts';
import { printJson, printLine, printRows } from './output.ts';

type JsonFlag = { json?: boolean };

const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90m", "2h", "1d" in milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([mhd])$/.exec(value.trim());
  if (!m || Number(m[1]) === 0)
    throw new UserError(
      'invalid_argument',
      `--duration must look like 90m, 2h or 1d; got "${value}"`,
    );
  return Number(m[1]) * units[m[2]!]!;
}

function parseTime(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UserError(
      'invalid_argument',
      `${flag} must be a time like 2026-11-21T02:00:00Z; got "${value}"`,
    );
  return d;
}

function matchers(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 1) throw new UserError('invalid_argument', `--match must be label=value; got "${v}"`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** A window as the API sends it (times as strings) with its times as Dates again. */
function revive(w: MaintenanceWindow): MaintenanceWindow {
  return { ...w, startsAt: new Date(w.startsAt), endsAt: new Date(w.endsAt) };
}

export function registerMaintenanceCommands(program: Command): void {
  const maintenance = program
    .command('maintenance')
    .description('maintenance windows: firing alerts inside one open no incident');
  maintenance
    .command('add')
    .description('add a maintenance window')
    .requiredOption('--reason <text>', 'why (shown on suppressed alerts)')
    .option('--service <service>', 'only this service (default: every service)')
    .option(
      '--match <label=value>',
      'only alerts with this label (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--start <time>', 'start (ISO 8601; default now)')
    .option('--end <time>', 'end (ISO 8601)')
    .option('--duration <d>', 'length instead of --end: 90m, 2h, 1d')
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: JsonFlag & {
          reason: string;
          service?: string;
          match: string[];
          start?: string;
          end?: string;
          duration?: string;
        },
      ) => {
        if ((opts.end === undefined) === (opts.duration === undefined))
          throw new UserError('invalid_argument', 'give exactly one of --end or --duration');
        const startsAt = opts.start ? parseTime(opts.start, '--start') : new Date();
        const endsAt = opts.end
          ? parseTime(opts.end, '--end')
          : new Date(startsAt.getTime() + parseDuration(opts.duration!));
        const labels = matchers(opts.match);
        const w = revive(
          await viaApiOr<MaintenanceWindow>(
            (api) =>
              api.request('POST', '/api/v1/maintenance-windows', {
                body: {
                  reason: opts.reason,
                  startsAt: startsAt.toISOString(),
                  endsAt: endsAt.toISOString(),
                  matchers: labels,
                  ...(opts.service ? { service: opts.service } : {}),
                },
              }),
            (s) =>
              s.maintenance.create({
                reason: opts.reason,
                startsAt,
                endsAt,
                matchers: labels,
                createdBy: `cli:${userInfo().username}`,
                ...(opts.service ? { service: opts.service } : {}),
              }),
          ),
        );
        if (opts.json) printJson(w);
        else
          printLine(
            `maintenance window ${w.id} for ${w.service ?? 'every service'} from ${w.startsAt.toISOString()} to ${w.endsAt.toISOString()}`,
          );
      },
    );
  maintenance
    .command('list')
    .description('list current and future maintenance windows')
    .option('--all', 'include past windows')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { all?: boolean }) => {
      const includePast = opts.all ?? false;
      const rows = await viaApiOr(
        (api) =>
          api.listAll<MaintenanceWindow>('/api/v1/maintenance-windows', 'maintenanceWindows', {
            all: includePast,
          }),
        (s) => s.maintenance.list({ includePast }),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (w) => w.id },
          { header: 'service', value: (w) => w.service ?? '(all)' },
          {
            header: 'matchers',
            value: (w) => (Object.keys(w.matchers).length ? w.matchers : null),
          },
          { header: 'starts', value: (w) => w.startsAt },
          { header: 'ends', value: (w) => w.endsAt },
          { header: 'reason', value: (w) => w.reason },
        ],
        opts.json,
      );
    });
  maintenance
    .command('remove <id>')
    .description('remove a maintenance window')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const n = positiveInt(id, 'id');
      const w = await viaApiOr(
        (api) => api.request<MaintenanceWindow>('DELETE', `/api/v1/maintenance-windows/${n}`),
        (s) => s.maintenance.remove(n),
      );
      if (opts.json) printJson(w);
      else printLine(`removed maintenance window ${w.id}`);
    });
}
