// Uptime Kuma's webhook notification: { heartbeat, monitor, msg }, one
// monitor per notification. Heartbeat status 0 is down (firing), 1 up
// (resolved); 2 (pending: retrying before "down") and 3 (the monitor is in
// Uptime Kuma's own maintenance) are not alerts. A null heartbeat and monitor
// is the "Test" button.
import type { NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  computeFingerprint,
  isRecord,
  kind,
  malformed,
  normalizeSeverity,
  parseTime,
} from '../alert.ts';

export type UptimeKumaOptions = {
  /** Label naming the service; default a `service` tag, else the monitor's name. */
  serviceLabel?: string | null;
};

const notAlerts: Record<number, string> = {
  2: 'heartbeat status 2 (pending): Uptime Kuma is still retrying before it declares the monitor down',
  3: 'heartbeat status 3 (maintenance): the monitor is in an Uptime Kuma maintenance window',
};

/** Uptime Kuma writes heartbeat times as "YYYY-MM-DD HH:mm:ss.SSS" in UTC. */
function heartbeatTime(value: unknown): Date | null {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(value))
    return parseTime(`${value.replace(' ', 'T')}Z`, 'heartbeat.time');
  return parseTime(value, 'heartbeat.time');
}

/** Tags are [{name, value}] objects (older versions: strings). */
function tagLabels(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(tags)) return out;
  for (const tag of tags) {
    if (typeof tag === 'string' && tag !== '') out[`tag_${tag}`] = '';
    else if (isRecord(tag) && typeof tag.name === 'string' && tag.name !== '')
      out[`tag_${tag.name}`] = typeof tag.value === 'string' ? tag.value : '';
  }
  return out;
}

export function parseUptimeKuma(payload: unknown, options: UptimeKumaOptions = {}): ParsedPayload {
  if (!isRecord(payload)) throw malformed('body', `must be a JSON object, got ${kind(payload)}`);
  const { heartbeat, monitor, msg } = payload;
  if (heartbeat === null || heartbeat === undefined) {
    if (monitor === null || monitor === undefined)
      return {
        alerts: [],
        rejected: [],
        skipped: [{ index: 0, reason: 'test notification (no heartbeat): nothing to do' }],
      };
    throw malformed('heartbeat', 'is missing while monitor is present');
  }
  if (!isRecord(heartbeat))
    throw malformed('heartbeat', `must be an object or null, got ${kind(heartbeat)}`);
  if (!isRecord(monitor)) throw malformed('monitor', `must be an object, got ${kind(monitor)}`);
  const status = heartbeat.status;
  if (typeof status !== 'number' || ![0, 1, 2, 3].includes(status))
    throw malformed('heartbeat.status', `must be 0, 1, 2 or 3, got ${kind(status)}`);
  const name = monitor.name;
  if (typeof name !== 'string' || name.trim() === '')
    throw malformed('monitor.name', `must be a non-empty string, got ${kind(name)}`);
  const id = monitor.id ?? heartbeat.monitorID;
  if (typeof id !== 'number' && typeof id !== 'string')
    throw malformed('monitor.id', `must be a number, got ${kind(id)}`);
  const reason = notAlerts[status];
  if (reason) return { alerts: [], rejected: [], skipped: [{ index: 0, reason }] };

  const labels: Record<string, string> = {
    alertname: name,
    monitor: name,
    monitor_id: String(id),
    ...tagLabels(monitor.tags),
  };
  if (typeof monitor.type === 'string') labels.monitor_type = monitor.type;
  const target =
    typeof monitor.url === 'string' && monitor.url !== '' && monitor.url !== 'https://'
      ? monitor.url
      : typeof monitor.hostname === 'string'
        ? monitor.hostname
        : undefined;
  if (target) labels.instance = target;
  const time = heartbeatTime(heartbeat.time) ?? new Date();
  const firing = status === 0;
  const summary =
    typeof msg === 'string' && msg !== ''
      ? msg
      : typeof heartbeat.msg === 'string' && heartbeat.msg !== ''
        ? heartbeat.msg
        : `${name} is ${firing ? 'down' : 'up'}`;
  const annotations: Record<string, string> = { summary };
  if (typeof heartbeat.msg === 'string' && heartbeat.msg !== '')
    annotations.description = heartbeat.msg;
  const alert: NormalizedAlert = {
    source: 'uptime-kuma',
    // Only the monitor's identity: the same for its down and up notifications.
    fingerprint: computeFingerprint('uptime-kuma', { monitor_id: String(id) }),
    service: (options.serviceLabel && labels[options.serviceLabel]) || labels.tag_service || name,
    severity: normalizeSeverity(labels.tag_severity, 'critical'),
    status: firing ? 'firing' : 'resolved',
    summary,
    labels,
    annotations,
    startsAt: time,
    endsAt: firing ? null : time,
    raw: payload,
  };
  return { alerts: [alert], rejected: [], skipped: [] };
}
