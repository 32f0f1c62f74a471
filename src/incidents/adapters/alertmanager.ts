// Prometheus Alertmanager's webhook (version 4): one notification carries a
// group of alerts, each with its own status, labels and fingerprint. Grafana's
// unified alerting sends a superset of this shape (grafana.ts builds on it).
import type { AlertSource, NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  collect,
  computeFingerprint,
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

/** The group object of a v4 notification, checked. */
export function alertGroup(payload: unknown): Record<string, unknown> & { alerts: unknown[] } {
  if (!isRecord(payload)) throw malformed('body', `must be a JSON object, got ${kind(payload)}`);
  if (!Array.isArray(payload.alerts))
    throw malformed('alerts', `must be an array of alerts, got ${kind(payload.alerts)}`);
  if (payload.alerts.length === 0) throw malformed('alerts', 'is empty');
  return payload as Record<string, unknown> & { alerts: unknown[] };
}

/** One element of `alerts[]`, shared with Grafana. */
export function groupAlert(
  source: AlertSource,
  item: unknown,
  field: string,
  group: Record<string, unknown>,
  options: AlertmanagerOptions,
  summaryFallback?: string,
): NormalizedAlert {
  if (!isRecord(item)) throw malformed(field, `must be an object, got ${kind(item)}`);
  const status = item.status;
  if (status !== 'firing' && status !== 'resolved')
    throw malformed(`${field}.status`, `must be "firing" or "resolved", got ${kind(status)}`);
  // Group-wide labels and annotations fill in what an alert leaves out.
  const labels = {
    ...stringMap(group.commonLabels, 'commonLabels'),
    ...stringMap(item.labels, `${field}.labels`),
  };
  if (Object.keys(labels).length === 0) throw malformed(`${field}.labels`, 'is missing or empty');
  const annotations = {
    ...stringMap(group.commonAnnotations, 'commonAnnotations'),
    ...stringMap(item.annotations, `${field}.annotations`),
  };
  const startsAt = parseTime(item.startsAt, `${field}.startsAt`);
  if (!startsAt) throw malformed(`${field}.startsAt`, 'is missing');
  const endsAt = parseTime(item.endsAt, `${field}.endsAt`);
  let fingerprint = item.fingerprint;
  if (fingerprint !== undefined && (typeof fingerprint !== 'string' || fingerprint === ''))
    throw malformed(`${field}.fingerprint`, `must be a non-empty string, got ${kind(fingerprint)}`);
  fingerprint ??= computeFingerprint(source, labels);
  if (typeof item.generatorURL === 'string' && item.generatorURL !== '')
    annotations.generator_url ??= item.generatorURL;
  return {
    source,
    fingerprint: fingerprint as string,
    service: serviceFrom(labels, options.serviceLabel),
    severity: normalizeSeverity(labels.severity, 'warning'),
    status,
    summary:
      annotations.summary ??
      annotations.description ??
      summaryFallback ??
      labels.alertname ??
      'alert without a summary',
    labels,
    annotations,
    startsAt,
    endsAt,
    raw: item,
  };
}

export function parseAlertmanager(
  payload: unknown,
  options: AlertmanagerOptions = {},
): ParsedPayload {
  const group = alertGroup(payload);
  if (group.version !== undefined && group.version !== '4')
    throw malformed(
      'version',
      `only webhook version "4" is understood, got ${kind(group.version)}`,
    );
  const { ok, rejected } = collect(group.alerts, 'alerts', (item, field) =>
    groupAlert('alertmanager', item, field, group, options),
  );
  return { alerts: ok, rejected, skipped: [] };
}
