// `warden incidents list|show|approve|reject|resolve`, `warden alerts list` and
// `warden alerts endpoints create|list|rotate|disable|enable|delete`.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import type { AlertStatus } from '../incidents/alert.ts';
import { isAlertSource } from '../incidents/alert.ts';
import type { AlertEndpoint } from '../incidents/alert-endpoints.ts';
import { endpointUrls } from '../incidents/alert-endpoints.ts';
import type { StoredIncident } from '../memory/incident-memory.ts';
import type { Approval } from '../approvals/approval-service.ts';
import type {
  Incident,
  IncidentEvent,
  IncidentStatus,
  StoredAlert,
} from '../incidents/incident-store.ts';
import { incidentStatuses } from '../incidents/incident-store.ts';
import { viaApiOr } from './api-client.ts';
import { cliConfig } from './context.ts';
import { printJson, printLine, printRows } from './output.ts';

type JsonFlag = { json?: boolean };

export function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError('invalid_argument', `${what} must be a positive integer; got "${value}"`);
  return n;
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--param k=v` pairs as an object; a pair without "=" is an error that names it. */
export function paramPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UserError('invalid_argument', `--param must be key=value; got "${p}"`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

function baseUrl(): string {
  const config = cliConfig();
  return config.server.publicUrl ?? `http://localhost:${config.server.port}`;
}

type Urls = ReturnType<typeof endpointUrls>;
type EndpointView = AlertEndpoint & { urls: Urls };
type Created = { endpoint: AlertEndpoint; token: string; hmacSecret?: string; urls: Urls };

function readMapping(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(
      'file_unreadable',
      `--mapping-file: cannot read ${file}: ${(err as Error).message}`,
    );
  }
}

type IncidentView = { incident: Incident; events: IncidentEvent[]; alerts: StoredAlert[] };

export function registerIncidentCommands(program: Command): void {
  const incidents = program.command('incidents').description('incidents opened from alerts');
  incidents
    .command('list')
    .description('list incidents, newest first')
    .option('--status <status>', `one of ${incidentStatuses.join(', ')}`)
    .option('--service <service>', 'only this service')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { status?: string; service?: string; limit: string }) => {
      const filter = {
        limit: positiveInt(opts.limit, '--limit'),
        ...(opts.status ? { status: opts.status as IncidentStatus } : {}),
        ...(opts.service ? { service: opts.service } : {}),
      };
      const rows = await viaApiOr(
        async (api) =>
          (
            await api.request<{ incidents: Incident[] }>('GET', '/api/v1/incidents', {
              query: filter,
            })
          ).incidents,
        (s) => s.incidents.list(filter),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (i) => i.id },
          { header: 'status', value: (i) => (i.flapping ? `${i.status} (flapping)` : i.status) },
          { header: 'service', value: (i) => i.service },
          { header: 'severity', value: (i) => i.severity },
          { header: 'seen', value: (i) => i.occurrences },
          { header: 'opened', value: (i) => i.openedAt },
          { header: 'summary', value: (i) => i.summary },
        ],
        opts.json,
      );
    });
  incidents
    .command('show <id>')
    .description('an incident with its timeline and alerts')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const n = positiveInt(id, 'incident id');
      const shown = await viaApiOr(
        (api) => api.request<IncidentView>('GET', `/api/v1/incidents/${n}`),
        (s) => s.incidents.show(n),
      );
      if (opts.json) return printJson(shown);
      const i = shown.incident;
      printLine(`incident ${i.id}: ${i.summary}`);
      printLine(
        `status ${i.status}${i.flapping ? ' (flapping)' : ''}, service ${i.service}, severity ${i.severity}, fingerprint ${i.fingerprint}, seen ${i.occurrences} time(s)`,
      );
      if (i.annotations.runbook_url) printLine(`runbook ${i.annotations.runbook_url}`);
      printLine();
      printRows(
        shown.events,
        [
          { header: 'at', value: (e) => e.at },
          { header: 'type', value: (e) => e.type },
          { header: 'by', value: (e) => e.actor },
          { header: 'message', value: (e) => e.message },
        ],
        false,
      );
    });
  for (const decision of ['approve', 'reject'] as const) {
    incidents
      .command(`${decision} <id>`)
      .description(`${decision} the action an incident is waiting on`)
      .option('--comment <text>', 'why, for the timeline')
      .option('--json', 'machine-readable output')
      .action(async (id: string, opts: JsonFlag & { comment?: string }) => {
        const by = `cli:${userInfo().username}`;
        const n = positiveInt(id, 'incident id');
        const approval = await viaApiOr(
          (api) =>
            api.request<Approval>('POST', `/api/v1/incidents/${n}/${decision}`, {
              body: opts.comment === undefined ? {} : { comment: opts.comment },
            }),
          (s) => s.approvals.decide(n, decision, by, opts.comment),
        );
        if (opts.json) return printJson(approval);
        printLine(
          `${approval.status} ${approval.action} ${JSON.stringify(approval.parameters)} for incident ${approval.incidentId}`,
        );
      });
  }

  incidents
    .command('resolve <id>')
    .description(
      'resolve an incident by hand and teach incident memory its cause, evidence and fix',
    )
    .requiredOption('--fix <action>', 'the catalogue action that fixed it')
    .option('--param <key=value>', "a parameter of the fix's action (repeatable)", collect, [])
    .requiredOption('--root-cause <text>', 'what caused it')
    .option(
      '--evidence <log line>',
      'a log line or output that shows the cause (repeatable)',
      collect,
      [],
    )
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        opts: JsonFlag & { fix: string; param: string[]; rootCause: string; evidence: string[] },
      ) => {
        const n = positiveInt(id, 'incident id');
        const resolution = {
          action: opts.fix,
          parameters: paramPairs(opts.param),
          rootCause: opts.rootCause,
          evidence: opts.evidence,
        };
        const r = await viaApiOr(
          (api) =>
            api.request<{ incident: Incident; memory: StoredIncident }>(
              'POST',
              `/api/v1/incidents/${n}/resolve`,
              { body: resolution },
            ),
          (s) => s.healing.resolveByHand(n, { ...resolution, by: `cli:${userInfo().username}` }),
        );
        if (opts.json) return printJson(r);
        printLine(
          `incident ${r.incident.id} is ${r.incident.status}; remembered as ${r.memory.id}: ${r.memory.fix?.action} ${JSON.stringify(r.memory.fix?.parameters ?? {})}`,
        );
        for (const t of r.memory.evidence) printLine(`evidence   ${t}`);
      },
    );

  const alerts = program.command('alerts').description('received alerts and alert endpoints');
  alerts
    .command('list')
    .description('list received alerts, newest first')
    .option('--service <service>', 'only this service')
    .option('--status <status>', 'firing or resolved')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag & { status?: string; service?: string; limit: string }) => {
      if (opts.status && opts.status !== 'firing' && opts.status !== 'resolved')
        throw new UserError('invalid_argument', `--status must be firing or resolved`);
      const filter = {
        limit: positiveInt(opts.limit, '--limit'),
        ...(opts.status ? { status: opts.status as AlertStatus } : {}),
        ...(opts.service ? { service: opts.service } : {}),
      };
      const rows = await viaApiOr(
        async (api) =>
          (await api.request<{ alerts: StoredAlert[] }>('GET', '/api/v1/alerts', { query: filter }))
            .alerts,
        (s) => s.incidents.listAlerts(filter),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (a) => a.id },
          { header: 'received', value: (a) => a.receivedAt },
          { header: 'source', value: (a) => a.source },
          { header: 'service', value: (a) => a.service },
          { header: 'status', value: (a) => a.status },
          { header: 'outcome', value: (a) => a.outcome },
          { header: 'incident', value: (a) => a.incidentId },
          { header: 'summary', value: (a) => a.summary },
        ],
        opts.json,
      );
    });

  const endpoints = alerts.command('endpoints').description('who may post alerts (admin)');
  endpoints
    .command('create')
    .description('create an alert endpoint; its token (and HMAC secret) are shown once')
    .requiredOption('--name <name>', 'endpoint name (lowercase, digits, - and _)')
    .requiredOption('--source <source>', 'uptime-kuma, alertmanager, grafana or generic')
    .option('--service-label <label>', 'label that names the service')
    .option('--mapping-file <file>', 'JSONata mapping for a generic endpoint')
    .option('--signed', 'generic only: require an HMAC-SHA256 signature')
    .option('--json', 'machine-readable output')
    .action(
      async (
        opts: JsonFlag & {
          name: string;
          source: string;
          serviceLabel?: string;
          mappingFile?: string;
          signed?: boolean;
        },
      ) => {
        if (!isAlertSource(opts.source))
          throw new UserError(
            'invalid_source',
            `--source must be uptime-kuma, alertmanager, grafana or generic; got "${opts.source}"`,
          );
        const source = opts.source;
        const input = {
          name: opts.name,
          source,
          signed: opts.signed ?? false,
          ...(opts.serviceLabel ? { serviceLabel: opts.serviceLabel } : {}),
          ...(opts.mappingFile ? { mapping: readMapping(opts.mappingFile) } : {}),
        };
        const created = await viaApiOr<Created>(
          (api) => api.request('POST', '/api/v1/alert-endpoints', { body: input }),
          async (s) => {
            const c = await s.alertEndpoints.create(input);
            return { ...c, urls: endpointUrls(baseUrl(), c.endpoint, c.token) };
          },
        );
        const { urls } = created;
        if (opts.json) return printJson(created);
        printLine(
          `created ${source} endpoint "${created.endpoint.name}" (id ${created.endpoint.id}).`,
        );
        printLine('Store these now; they are not shown again.');
        printLine(`token:       ${created.token}`);
        if (created.hmacSecret) printLine(`hmac secret: ${created.hmacSecret}`);
        printLine(`post to:     ${urls.withHeader}  (Authorization: Bearer <token>)`);
        printLine(`or:          ${urls.withTokenInPath}`);
      },
    );
  endpoints
    .command('list')
    .description('list alert endpoints (never their tokens)')
    .option('--json', 'machine-readable output')
    .action(async (opts: JsonFlag) => {
      const rows = await viaApiOr(
        (api) => api.listAll<EndpointView>('/api/v1/alert-endpoints', 'alertEndpoints'),
        async (s) =>
          (await s.alertEndpoints.list()).map((e) => ({ ...e, urls: endpointUrls(baseUrl(), e) })),
      );
      printRows(
        rows,
        [
          { header: 'id', value: (e) => e.id },
          { header: 'name', value: (e) => e.name },
          { header: 'source', value: (e) => e.source },
          { header: 'token', value: (e) => `${e.tokenPrefix}...` },
          { header: 'signed', value: (e) => e.signed },
          { header: 'last used', value: (e) => e.lastUsedAt },
          { header: 'disabled', value: (e) => e.disabledAt },
        ],
        opts.json,
      );
    });
  endpoints
    .command('rotate <id>')
    .description('replace an endpoint token; the old one stops working')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const n = positiveInt(id, 'id');
      const r = await viaApiOr<{ endpoint: AlertEndpoint; token: string; urls: Urls }>(
        (api) => api.request('POST', `/api/v1/alert-endpoints/${n}/rotate-token`),
        async (s) => {
          const rotated = await s.alertEndpoints.rotateToken(n);
          return { ...rotated, urls: endpointUrls(baseUrl(), rotated.endpoint, rotated.token) };
        },
      );
      if (opts.json) return printJson(r);
      printLine(`new token for "${r.endpoint.name}" (shown once): ${r.token}`);
    });
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    endpoints
      .command(`${name} <id>`)
      .description(`${name} an alert endpoint`)
      .option('--json', 'machine-readable output')
      .action(async (id: string, opts: JsonFlag) => {
        const n = positiveInt(id, 'id');
        const e = await viaApiOr(
          (api) =>
            api.request<AlertEndpoint>('PATCH', `/api/v1/alert-endpoints/${n}`, {
              body: { disabled },
            }),
          (s) => s.alertEndpoints.update(n, { disabled }),
        );
        if (opts.json) printJson(e);
        else printLine(`${name}d "${e.name}"`);
      });
  }
  endpoints
    .command('delete <id>')
    .description('delete an alert endpoint (its alerts stay)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: JsonFlag) => {
      const n = positiveInt(id, 'id');
      const e = await viaApiOr(
        (api) => api.request<AlertEndpoint>('DELETE', `/api/v1/alert-endpoints/${n}`),
        (s) => s.alertEndpoints.delete(n),
      );
      if (opts.json) printJson(e);
      else printLine(`deleted "${e.name}"`);
    });
}
