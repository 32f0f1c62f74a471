// Uptime Kuma's webhook notification: { heartbeat, monitor, msg }, one
// monitor per notification, as JSON or (the "form-data" body option) as the
// same JSON in a form's `data` field. Heartbeat status 0 is down (firing), 1
// up (resolved); 2 (pending: retrying before "down") and 3 (the monitor is in
// Uptime Kuma's own maintenance) are not alerts. A null heartbeat and monitor
// with only `msg` is the "Test" button, or a notice that concerns no single
// check (certificate and domain expiry are sent that way): nothing to heal.
// A repeated "still down" notification (resend interval) has
// heartbeat.important false; it is the same firing alert.
import type { NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  computeFingerprint,
  firstText,
  isRecord,
  kind,
  malformed,
  normalizeSeverity,
  own,
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

/** Tags are [{name, value}] objects (older versions: strings); a tag's value may be null. */
function tagLabels(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (tags === undefined || tags === null) return out;
  if (!Array.isArray(tags))
    throw malformed('monitor.tags', `must be an array of tags, got ${kind(tags)}`);
  for (const tag of tags) {
    if (typeof tag === 'string' && tag !== '') out[`tag_${tag}`] = '';
    else if (isRecord(tag) && typeof tag.name === 'string' && tag.name !== '')
      out[`tag_${tag.name}`] =
        typeof tag.value === 'string'
          ? tag.value
          : typeof tag.value === 'number'
            ? String(tag.value)
            : '';
  }
  return out;
}

/** A tag label by name, whatever its case ("Service", "service"). */
function tagValue(labels: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(labels))
    if (k.toLowerCase() === `tag_${name}` && v.trim() !== '') return v;
  return undefined;
}

/** Monitor types that check `url`; the others check `hostname` (and `port`) or something else. */
const urlTypes = new Set(['http', 'keyword', 'json-query', 'real-browser']);

/** What the monitor checks, from the fields its type uses. */
function monitorTarget(monitor: Record<string, unknown>): string | undefined {
  const url = firstText(monitor.url);
  // New monitors are created with the placeholder url "https://".
  const realUrl = url && url !== 'https://' && url !== 'http://' ? url : undefined;
  const type = typeof monitor.type === 'string' ? monitor.type : undefined;
  if (type && urlTypes.has(type) && realUrl) return realUrl;
  return firstText(monitor.hostname, monitor.grpcUrl, monitor.docker_container) ?? realUrl;
}

/** Heartbeat status: a number 0-3 (a form may carry it as a numeric string). */
function heartbeatStatus(value: unknown): number {
  const n = typeof value === 'string' && /^\d$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || ![0, 1, 2, 3].includes(n))
    throw malformed(
      'heartbeat.status',
      `must be 0 (down), 1 (up), 2 (pending) or 3 (maintenance), got ${kind(value)}`,
    );
  return n;
}

export function parseUptimeKuma(payload: unknown, options: UptimeKumaOptions = {}): ParsedPayload {
  if (!isRecord(payload)) throw malformed('body', `must be a JSON object, got ${kind(payload)}`);
  const { heartbeat, monitor, msg } = payload;
  if (heartbeat === null || heartbeat === undefined) {
    if (monitor === null || monitor === undefined) {
      const text = typeof msg === 'string' && msg !== '' ? `: "${msg.slice(0, 200)}"` : '';
      return {
        alerts: [],
        rejected: [],
        skipped: [
          {
            index: 0,
            reason: `test notification or other message about no monitor (no heartbeat): nothing to do${text}`,
          },
        ],
      };
    }
    throw malformed('heartbeat', 'is missing while monitor is present');
  }
  if (!isRecord(heartbeat))
    throw malformed('heartbeat', `must be an object or null, got ${kind(heartbeat)}`);
  if (!isRecord(monitor)) throw malformed('monitor', `must be an object, got ${kind(monitor)}`);
  const status = heartbeatStatus(heartbeat.status);
  const name = monitor.name;
  if (typeof name !== 'string' || name.trim() === '')
    throw malformed('monitor.name', `must be a non-empty string, got ${kind(name)}`);
  const id = monitor.id ?? heartbeat.monitorID;
  if (!(typeof id === 'number' && Number.isFinite(id)) && !(typeof id === 'string' && id !== ''))
    throw malformed('monitor.id', `must be a number, got ${kind(id)}`);
  if (msg !== undefined && msg !== null && typeof msg !== 'string')
    throw malformed('msg', `must be a string, got ${kind(msg)}`);
  if (heartbeat.msg !== undefined && heartbeat.msg !== null && typeof heartbeat.msg !== 'string')
    throw malformed('heartbeat.msg', `must be a string, got ${kind(heartbeat.msg)}`);
  const reason = own(notAlerts, status);
  if (reason) return { alerts: [], rejected: [], skipped: [{ index: 0, reason }] };

  const labels: Record<string, string> = {
    alertname: name,
    monitor: name,
    monitor_id: String(id),
    ...tagLabels(monitor.tags),
  };
  if (typeof monitor.type === 'string') labels.monitor_type = monitor.type;
  const target = monitorTarget(monitor);
  if (target) labels.instance = target;
  if (
    typeof monitor.port === 'number' &&
    monitor.port > 0 &&
    !urlTypes.has(labels.monitor_type ?? '')
  )
    labels.port = String(monitor.port);
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
  // false (or 0) on the repeated "still down" notifications of a resend interval.
  if (typeof heartbeat.important === 'boolean' || typeof heartbeat.important === 'number')
    annotations.important = String(Boolean(heartbeat.important));
  if (typeof heartbeat.ping === 'number') annotations.ping_ms = String(heartbeat.ping);
  const description = firstText(monitor.description);
  if (description) annotations.monitor_description = description;
  const alert: NormalizedAlert = {
    source: 'uptime-kuma',
    // Only the monitor's identity: the same for its down and up notifications.
    fingerprint: computeFingerprint('uptime-kuma', { monitor_id: String(id) }),
    service:
      (options.serviceLabel && labels[options.serviceLabel]) || tagValue(labels, 'service') || name,
    severity: normalizeSeverity(tagValue(labels, 'severity'), 'critical'),
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
