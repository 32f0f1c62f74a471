// `warden monitors list|add|remove|check`.
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import type { CheckSpec } from '../monitors/checks.ts';
import type { Monitor } from '../monitors/monitor-service.ts';
import { describeTarget } from '../monitors/monitor-service.ts';
import { viaApiOr } from './api-client.ts';
import { positiveInt } from './incident-commands.ts';
import { printJson, printLine, printRows } from './output.ts';

type AddOptions = {
  name: string;
  service?: string;
  http?: string;
  tcp?: string;
  action?: string;
  keyword?: string;
  expectStatus?: string;
  interval: string;
  timeout: string;
  retries: string;
  severity: string;
  json?: boolean;
};

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UserError('invalid_flag', `${flag} takes a number of seconds; got "${value}"`);
  return Math.round(n * 1000);
}

function specFrom(o: AddOptions): CheckSpec {
  const given = [o.http, o.tcp, o.action].filter(Boolean).length;
  if (given !== 1)
    throw new UserError(
      'invalid_flag',
      'give exactly one of --http URL, --tcp HOST:PORT or --action NAME',
    );
  if (o.http) {
    return {
      kind: 'http',
      url: o.http,
      ...(o.keyword ? { keyword: o.keyword } : {}),
      ...(o.expectStatus ? { expectStatus: o.expectStatus.split(',') } : {}),
    };
  }
  if (o.tcp) {
    const m = /^(.+):(\d+)$/.exec(o.tcp);
    if (!m) throw new UserError('invalid_flag', `--tcp takes HOST:PORT; got "${o.tcp}"`);
    return { kind: 'tcp', host: m[1]!, port: Number(m[2]) };
  }
  return { kind: 'action', action: o.action! };
}

const columns = [
  { header: 'id', value: (m: Monitor) => m.id },
  { header: 'name', value: (m: Monitor) => m.name },
  { header: 'service', value: (m: Monitor) => m.service },
  { header: 'target', value: (m: Monitor) => describeTarget(m.spec) },
  { header: 'state', value: (m: Monitor) => (m.enabled ? m.state : 'disabled') },
  { header: 'last result', value: (m: Monitor) => m.lastResult?.detail },
];

export function registerMonitorCommands(program: Command): void {
  const monitors = program
    .command('monitors')
    .description('built-in HTTP, TCP and action monitors');
  monitors
    .command('list')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) =>
      printRows(
        await viaApiOr(
          (api) => api.listAll<Monitor>('/api/v1/monitors', 'monitors'),
          (s) => s.monitors.list(),
        ),
        columns,
        opts.json,
      ),
    );
  monitors
    .command('add')
    .description('add a monitor')
    .requiredOption('--name <name>', 'unique name')
    .option('--service <service>', 'the service it watches (default: the name)')
    .option('--http <url>', 'check an HTTP(S) URL')
    .option('--tcp <host:port>', 'check that a TCP port accepts connections')
    .option('--action <name>', 'run a read action from the catalogue; exit code 0 is up')
    .option('--keyword <text>', 'HTTP: the body must contain this text')
    .option('--expect-status <codes>', 'HTTP: accepted statuses, e.g. 200-299,301')
    .option('--interval <seconds>', 'how often to check', '30')
    .option('--timeout <seconds>', 'how long one check may take', '10')
    .option('--retries <n>', 'failures in a row tolerated before the monitor is down', '1')
    .option('--severity <level>', 'critical, warning or info', 'critical')
    .option('--json', 'machine-readable output')
    .action(async (o: AddOptions) => {
      const input = {
        name: o.name,
        service: o.service ?? o.name,
        severity: o.severity,
        spec: specFrom(o),
        intervalMs: seconds('--interval', o.interval),
        timeoutMs: seconds('--timeout', o.timeout),
        retries: Number(o.retries),
      };
      const m = await viaApiOr(
        (api) => api.request<Monitor>('POST', '/api/v1/monitors', { body: input }),
        (s) => s.monitors.create(input),
      );
      if (o.json) printJson(m);
      else
        printLine(
          `added monitor "${m.name}" (id ${m.id}): ${describeTarget(m.spec)} every ${m.intervalMs / 1000} s`,
        );
    });
  monitors
    .command('check <id>')
    .description('check a monitor now')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const n = positiveInt(id, 'monitor id');
      const m = await viaApiOr(
        (api) => api.request<Monitor>('POST', `/api/v1/monitors/${n}/check`),
        (s) => s.monitors.checkNow(n),
      );
      if (opts.json) printJson(m);
      else printLine(`${m.name}: ${m.state} (${m.lastResult?.detail ?? 'no result'})`);
    });
  monitors
    .command('remove <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const n = positiveInt(id, 'monitor id');
      await viaApiOr(
        (api) => api.request<undefined>('DELETE', `/api/v1/monitors/${n}`),
        (s) => s.monitors.remove(n),
      );
      if (opts.json) printJson({ removed: n });
      else printLine(`removed monitor ${id}`);
    });
}
