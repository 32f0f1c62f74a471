// The one shape every alert source is turned into, and the helpers adapters
// share. A fingerprint is stable across firing and resolved notifications of
// the same problem: it never depends on status, times or messages.
import { createHash } from 'node:crypto';

import { UserError } from '../errors.ts';

/** Senders that reach Warden through an alert endpoint (webhook). */
export const alertSources = ['uptime-kuma', 'alertmanager', 'grafana', 'generic'] as const;
export type WebhookAlertSource = (typeof alertSources)[number];
/** Every origin of an alert: the webhook senders and Warden's own monitors. */
export type AlertSource = WebhookAlertSource | 'monitor';

export const severities = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof severities)[number];

export type AlertStatus = 'firing' | 'resolved';

export type NormalizedAlert = {
  source: AlertSource;
  fingerprint: string;
  service: string;
  severity: Severity;
  status: AlertStatus;
  summary: string;
  labels: Record<string, string>;
  /** Includes `runbook_url` when the sender gave one. */
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt: Date | null;
  /** The sender's own object for this alert, kept as evidence. */
  raw: unknown;
};

/** A payload item that was not turned into an alert, and why. */
export type AlertProblem = { index: number; reason: string };

/**
 * What an adapter made of one payload: the alerts, the items it refused
 * (malformed) and the items it skipped on purpose (test button, pending).
 */
export type ParsedPayload = {
  alerts: NormalizedAlert[];
  rejected: AlertProblem[];
  skipped: AlertProblem[];
};

export function isAlertSource(value: unknown): value is WebhookAlertSource {
  return typeof value === 'string' && (alertSources as readonly string[]).includes(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function malformed(field: string, problem: string): UserError {
  return new UserError('malformed_alert', `${field}: ${problem}`, { details: { field } });
}

/**
 * A table's own entry for a key from a payload, never one inherited from
 * Object.prototype: a severity spelled "constructor" or "toString" is
 * simply not in the table.
 */
export function own<V>(table: Readonly<Record<string, V>>, key: string | number): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Sets an own property, even one named `__proto__` (plain assignment would set the prototype). */
export function setOwn<V>(target: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A map of strings (labels, annotations); numbers and booleans are stringified. */
export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw malformed(field, `must be an object of strings, got ${kind(value)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') setOwn(out, k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') setOwn(out, k, String(v));
    else throw malformed(`${field}.${k}`, `must be a string, got ${kind(v)}`);
  }
  return out;
}

export function kind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw malformed(field, `must be a non-empty string, got ${kind(value)}`);
  return value;
}

/** The first value that is a non-blank string, if any. */
export function firstText(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  return undefined;
}

/**
 * Parses a timestamp. Go's zero time ("0001-01-01T00:00:00Z", Alertmanager's
 * "not ended") and empty values are null.
 */
export function parseTime(value: unknown, field: string): Date | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw malformed(field, `must be a timestamp, got ${kind(value)}`);
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw malformed(field, `is not a valid timestamp: "${value}"`);
  if (d.getUTCFullYear() <= 1) return null;
  if (d.getUTCFullYear() > 9999) throw malformed(field, `is out of range: "${value}"`);
  return d;
}

const severityWords: Record<string, Severity> = {
  critical: 'critical',
  crit: 'critical',
  page: 'critical',
  high: 'critical',
  error: 'critical',
  emergency: 'critical',
  disaster: 'critical',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  average: 'warning',
  info: 'info',
  information: 'info',
  informational: 'info',
  low: 'info',
  none: 'info',
};

/** Maps a sender's severity word onto critical, warning or info. */
export function normalizeSeverity(value: string | undefined, fallback: Severity): Severity {
  if (!value) return fallback;
  return own(severityWords, value.trim().toLowerCase()) ?? fallback;
}

/** Fingerprint for senders that give none: a hash of the source and the sorted labels. */
export function computeFingerprint(source: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256')
    .update(JSON.stringify([source, sorted]))
    .digest('hex')
    .slice(0, 16);
}

const serviceLabels = ['service', 'app', 'job', 'instance', 'alertname'];

/** The service an alert is about: the endpoint's chosen label, else the first usual one present. */
export function serviceFrom(labels: Record<string, string>, preferred?: string | null): string {
  for (const name of preferred ? [preferred, ...serviceLabels] : serviceLabels) {
    const v = own(labels, name);
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return 'unknown';
}

/** Runs fn for each item, collecting UserErrors as rejections so one bad item spares the rest. */
export function collect<T>(
  items: readonly unknown[],
  field: string,
  fn: (item: unknown, field: string) => T,
): { ok: T[]; rejected: AlertProblem[] } {
  const ok: T[] = [];
  const rejected: AlertProblem[] = [];
  items.forEach((item, index) => {
    try {
      ok.push(fn(item, `${field}[${index}]`));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      rejected.push({ index, reason: err.message });
    }
  });
  return { ok, rejected };
}
