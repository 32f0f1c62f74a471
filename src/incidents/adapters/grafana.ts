// Grafana's webhook contact point, in both of the shapes Grafana has sent:
//
// Unified alerting (Grafana 8+): Alertmanager's v4 group plus orgId, state,
// title, message, and per alert values, valueString and links to the
// dashboard, panel and silence page (kept as annotations).
//
// Legacy alerting (dashboard alerts, before Grafana 8 and in 8-10 when legacy
// alerting was kept on): one object per rule, no `alerts` array:
//   { title, ruleId, ruleName, ruleUrl, state, evalMatches: [{metric, value,
//     tags}], orgId, dashboardId, panelId, tags: {key: value}, message?,
//     imageUrl? }
// Its state is the rule's: "alerting" is firing and "ok" resolved. "no_data"
// (the query returned nothing and the rule is set to report that) is a
// firing alert as well: Grafana's own legacy notifiers (PagerDuty,
// Alertmanager) treat every state but "ok" as a problem, and a service whose
// metrics stopped is the usual cause. "pending" (the condition holds but the
// rule's `for` period has not elapsed) and "paused" (someone paused the rule)
// say nothing about the service yet, so they are skipped with the reason.
import type { NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  collect,
  computeFingerprint,
  firstText,
  isRecord,
  kind,
  malformed,
  normalizeSeverity,
  own,
  serviceFrom,
  stringMap,
} from '../alert.ts';
import type { AlertmanagerOptions } from './alertmanager.ts';
import { alertGroup, groupAlert, truncation } from './alertmanager.ts';

const links = ['dashboardURL', 'panelURL', 'silenceURL', 'imageURL'] as const;
const linkAnnotation: Record<(typeof links)[number], string> = {
  dashboardURL: 'dashboard_url',
  panelURL: 'panel_url',
  silenceURL: 'silence_url',
  imageURL: 'image_url',
};

/** Grafana's own alerts about a rule's query, named after the problem rather than the rule. */
const queryAlerts = new Set(['DatasourceNoData', 'DatasourceError']);

function parseUnified(payload: unknown, options: AlertmanagerOptions): ParsedPayload {
  const group = alertGroup(payload);
  // The group's title ("[FIRING:1] High memory") speaks for its alert only when it has one.
  const title = group.alerts.length === 1 ? firstText(group.title) : undefined;
  const { ok, rejected } = collect(group.alerts, 'alerts', (item, field) => {
    const alert = groupAlert('grafana', item, field, group, options, title);
    const raw = item as Record<string, unknown>;
    for (const link of links) {
      const v = raw[link];
      if (typeof v === 'string' && v !== '') alert.annotations[linkAnnotation[link]] ??= v;
    }
    if (typeof raw.valueString === 'string' && raw.valueString !== '')
      alert.annotations.value_string ??= raw.valueString;
    if (isRecord(raw.values)) alert.annotations.values ??= JSON.stringify(raw.values);
    if (typeof group.orgId === 'number') alert.annotations.grafana_org_id ??= String(group.orgId);
    // DatasourceNoData / DatasourceError keep the rule's name in `rulename`:
    // that, not the generic alertname, is what the alert is about.
    const alertname = alert.labels.alertname;
    const rulename = alert.labels.rulename;
    if (alertname && queryAlerts.has(alertname) && rulename && alert.service === alertname)
      alert.service = serviceFrom({ ...alert.labels, alertname: rulename }, options.serviceLabel);
    return alert;
  });
  return { alerts: ok, rejected, skipped: truncation(group) };
}

const legacyStates: Record<string, 'firing' | 'resolved'> = {
  alerting: 'firing',
  no_data: 'firing',
  ok: 'resolved',
};
const legacySkipped: Record<string, string> = {
  pending:
    'state "pending": the rule\'s condition holds but its "for" period has not elapsed, so Grafana has not declared it alerting yet',
  paused: 'state "paused": the rule was paused in Grafana; this says nothing about the service',
};

/** A legacy payload has no `alerts` array but the rule's own fields. */
function isLegacy(payload: unknown): payload is Record<string, unknown> {
  return (
    isRecord(payload) &&
    payload.alerts === undefined &&
    ['ruleId', 'ruleName', 'evalMatches', 'ruleUrl'].some((k) => payload[k] !== undefined)
  );
}

/** "metric=value" per evaluation match, for people reading the alert. */
function evalMatchesText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value))
    throw malformed('evalMatches', `must be an array of matches, got ${kind(value)}`);
  const parts = value.map((m, i) => {
    if (!isRecord(m)) throw malformed(`evalMatches[${i}]`, `must be an object, got ${kind(m)}`);
    const metric = typeof m.metric === 'string' && m.metric !== '' ? m.metric : 'value';
    const v = m.value === null || m.value === undefined ? 'null' : String(m.value);
    return `${metric}=${v}`;
  });
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function idText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw malformed(field, `must be a number, got ${kind(value)}`);
}

function parseLegacy(
  payload: Record<string, unknown>,
  options: AlertmanagerOptions,
): ParsedPayload {
  const state = payload.state;
  if (typeof state !== 'string')
    throw malformed('state', `must be a string (legacy Grafana alerting), got ${kind(state)}`);
  if (own(legacyStates, state) === undefined && own(legacySkipped, state) === undefined)
    throw malformed(
      'state',
      `must be "alerting", "ok", "no_data", "pending" or "paused", got ${kind(state)}`,
    );
  const ruleId = idText(payload.ruleId, 'ruleId');
  const ruleName = payload.ruleName;
  if (ruleName !== undefined && (typeof ruleName !== 'string' || ruleName.trim() === ''))
    throw malformed('ruleName', `must be a non-empty string, got ${kind(ruleName)}`);
  if (ruleId === undefined && ruleName === undefined)
    throw malformed('ruleName', 'is missing, and so is ruleId: nothing names the rule');
  const tags = stringMap(payload.tags, 'tags');
  const matches = evalMatchesText(payload.evalMatches);
  const message = payload.message;
  if (message !== undefined && message !== null && typeof message !== 'string')
    throw malformed('message', `must be a string, got ${kind(message)}`);
  // The notification channel's "Test" button sends a made-up rule.
  if (typeof message === 'string' && /^someone is testing the alert notification/i.test(message))
    return {
      alerts: [],
      rejected: [],
      skipped: [{ index: 0, reason: 'test notification (Grafana "Test" button): nothing to do' }],
    };
  const status = own(legacyStates, state);
  if (!status)
    return {
      alerts: [],
      rejected: [],
      skipped: [{ index: 0, reason: own(legacySkipped, state)! }],
    };

  const name = ruleName ?? `rule ${ruleId}`;
  const labels: Record<string, string> = { ...tags, alertname: name };
  if (ruleId !== undefined) labels.grafana_rule_id = ruleId;
  for (const [key, label] of [
    ['orgId', 'grafana_org_id'],
    ['dashboardId', 'grafana_dashboard_id'],
    ['panelId', 'grafana_panel_id'],
  ] as const) {
    const v = idText(payload[key], key);
    if (v !== undefined) labels[label] = v;
  }
  const annotations: Record<string, string> = { grafana_state: state };
  const title = firstText(payload.title);
  if (typeof message === 'string' && message !== '') annotations.description = message;
  if (title) annotations.title = title;
  if (matches) annotations.eval_matches = matches;
  // Older Grafana wrote rule_url / image_url.
  const ruleUrl = firstText(payload.ruleUrl, payload.rule_url);
  if (ruleUrl) annotations.rule_url = ruleUrl;
  const imageUrl = firstText(payload.imageUrl, payload.image_url);
  if (imageUrl) annotations.image_url = imageUrl;
  const summary = firstText(message, title, name) ?? 'Grafana alert without a summary';
  annotations.summary = summary;
  const now = new Date();
  const alert: NormalizedAlert = {
    source: 'grafana',
    // The rule's identity only: the same for its alerting, no_data and ok notifications.
    fingerprint: computeFingerprint(
      'grafana',
      ruleId !== undefined ? { grafana_rule_id: ruleId } : { grafana_rule_name: name },
    ),
    // A `service` (or app/job/instance) tag first, else the rule's name.
    service: serviceFrom(labels, options.serviceLabel),
    severity: normalizeSeverity(tags.severity, 'warning'),
    status,
    summary,
    labels,
    annotations,
    // Legacy notifications carry no times: the rule changed state when it was sent.
    startsAt: now,
    endsAt: status === 'resolved' ? now : null,
    raw: payload,
  };
  return { alerts: [alert], rejected: [], skipped: [] };
}

export function parseGrafana(payload: unknown, options: AlertmanagerOptions = {}): ParsedPayload {
  if (isLegacy(payload)) return parseLegacy(payload, options);
  if (isRecord(payload) && payload.alerts === undefined)
    throw malformed(
      'alerts',
      'is missing: send unified alerting\'s group (with "alerts"), or legacy alerting\'s rule object (with "ruleId", "ruleName" and "state")',
    );
  return parseUnified(payload, options);
}
