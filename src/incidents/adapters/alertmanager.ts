// Prometheus Alertmanager's webhook (version 4): one notification carries a
// group of alerts, each with its own status, labels and fingerprint. Grafana's
// unified alerting sends a superset of this shape (grafana.ts builds on it).
//
// What the sender really does (notify/webhook and template.Data upstream):
// firing alerts carry Go's zero time "0001-01-01T00:00:00Z" as endsAt (the
// "valid until" time is hidden), annotations may be absent, and with
// `max_alerts` set the group is cut short and `truncatedAlerts` counts the
// alerts left out.
import type { AlertProblem, AlertSource, NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  collect,
  computeFingerprint,
  firstText,
  isRecord,
  kind,
  malformed,
  normalizeSeverity,
  parseTime,
  serviceFrom,
  stringMap,
} from '../alert.ts';

export type AlertmanagerOptions = {
  /** Label naming the service; the usual ones are tried after it. */
  serviceLabel?: string | null;
};

export type AlertGroup = Record<string, unknown> & {
  alerts: unknown[];
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  truncatedAlerts: number;
};

/** The group object of a v4 notification, checked; group-wide maps are checked once here. */
export function alertGroup(payload: unknown): AlertGroup {
  if (!isRecord(payload)) throw malformed('body', `must be a JSON object, got ${kind(payload)}`);
  if (!Array.isArray(payload.alerts))
    throw malformed('alerts', `must be an array of alerts, got ${kind(payload.alerts)}`);
  if (payload.alerts.length === 0) throw malformed('alerts', 'is empty');
  const truncated = payload.truncatedAlerts ?? 0;
  if (typeof truncated !== 'number' || !Number.isInteger(truncated) || truncated < 0)
    throw malformed('truncatedAlerts', `must be a whole number of alerts, got ${kind(truncated)}`);
  stringMap(payload.groupLabels, 'groupLabels');
  return {
    ...payload,
    alerts: payload.alerts,
    commonLabels: stringMap(payload.commonLabels, 'commonLabels'),
    commonAnnotations: stringMap(payload.commonAnnotations, 'commonAnnotations'),
    truncatedAlerts: truncated,
  };
}

/** Says that the sender left alerts out of this group (`max_alerts`), so nobody is misled. */
export function truncation(group: AlertGroup): AlertProblem[] {
  if (group.truncatedAlerts === 0) return [];
  const n = group.truncatedAlerts;
  return [
    {
      index: group.alerts.length,
      reason: `truncatedAlerts: the sender left ${n} more alert${n === 1 ? '' : 's'} of this group out of the notification (max_alerts); ${n === 1 ? 'it was' : 'they were'} not received`,
    },
  ];
}

/** One element of `alerts[]`, shared with Grafana. */
export function groupAlert(
  source: AlertSource,
  item: unknown,
  field: string,
  group: AlertGroup,
  options: AlertmanagerOptions,
  summaryFallback?: string,
): NormalizedAlert {
  if (!isRecord(item)) throw malformed(field, `must be an object, got ${kind(item)}`);
  const status = item.status;
  if (status !== 'firing' && status !== 'resolved')
    throw malformed(`${field}.status`, `must be "firing" or "resolved", got ${kind(status)}`);
  // Group-wide labels and annotations fill in what an alert leaves out.
  const labels = { ...group.commonLabels, ...stringMap(item.labels, `${field}.labels`) };
  if (Object.keys(labels).length === 0) throw malformed(`${field}.labels`, 'is missing or empty');
  const annotations = {
    ...group.commonAnnotations,
    ...stringMap(item.annotations, `${field}.annotations`),
  };
  const startsAt = parseTime(item.startsAt, `${field}.startsAt`);
  if (!startsAt) throw malformed(`${field}.startsAt`, 'is missing');
  // Checked either way; a firing alert has not ended, whatever "valid until" it carries.
  const endsAt = parseTime(item.endsAt, `${field}.endsAt`);
  let fingerprint = item.fingerprint;
  if (fingerprint !== undefined && fingerprint !== null && fingerprint !== '') {
    if (typeof fingerprint !== 'string')
      throw malformed(`${field}.fingerprint`, `must be a string, got ${kind(fingerprint)}`);
  } else fingerprint = computeFingerprint(source, labels);
  if (item.generatorURL !== undefined && item.generatorURL !== null) {
    if (typeof item.generatorURL !== 'string')
      throw malformed(`${field}.generatorURL`, `must be a string, got ${kind(item.generatorURL)}`);
    if (item.generatorURL !== '') annotations.generator_url ??= item.generatorURL;
  }
  return {
    source,
    fingerprint: fingerprint as string,
    service: serviceFrom(labels, options.serviceLabel),
    severity: normalizeSeverity(labels.severity, 'warning'),
    status,
    summary:
      firstText(
        annotations.summary,
        annotations.description,
        annotations.message,
        summaryFallback,
        labels.alertname,
      ) ?? 'alert without a summary',
    labels,
    annotations,
    startsAt,
    endsAt: status === 'firing' ? null : endsAt,
    raw: item,
  };
}

export function parseAlertmanager(
  payload: unknown,
  options: AlertmanagerOptions = {},
): ParsedPayload {
  const group = alertGroup(payload);
  // Alertmanager sends the string "4"; a number 4 from a hand-made sender means the same.
  if (group.version !== undefined && group.version !== '4' && group.version !== 4)
    throw malformed(
      'version',
      `only webhook version "4" is understood, got ${kind(group.version)}`,
    );
  const { ok, rejected } = collect(group.alerts, 'alerts', (item, field) =>
    groupAlert('alertmanager', item, field, group, options),
  );
  return { alerts: ok, rejected, skipped: truncation(group) };
}
