// Grafana unified alerting's webhook: Alertmanager's v4 group plus orgId,
// state, title, message, and per alert values, valueString and links to the
// dashboard, panel and silence page (kept as annotations).
import type { ParsedPayload } from '../alert.ts';
import { collect, isRecord } from '../alert.ts';
import type { AlertmanagerOptions } from './alertmanager.ts';
import { alertGroup, groupAlert } from './alertmanager.ts';

const links = ['dashboardURL', 'panelURL', 'silenceURL', 'imageURL'] as const;
const linkAnnotation: Record<(typeof links)[number], string> = {
  dashboardURL: 'dashboard_url',
  panelURL: 'panel_url',
  silenceURL: 'silence_url',
  imageURL: 'image_url',
};

export function parseGrafana(payload: unknown, options: AlertmanagerOptions = {}): ParsedPayload {
  const group = alertGroup(payload);
  const title = typeof group.title === 'string' && group.title !== '' ? group.title : undefined;
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
    return alert;
  });
  return { alerts: ok, rejected, skipped: [] };
}
