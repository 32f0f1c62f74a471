// Picks the adapter for a source. Every adapter returns the same
// ParsedPayload; a payload that is malformed as a whole raises UserError.
import type { ParsedPayload, WebhookAlertSource } from '../alert.ts';
import { parseAlertmanager } from './alertmanager.ts';
import { parseGeneric } from './generic.ts';
import { parseGrafana } from './grafana.ts';
import { parseUptimeKuma } from './uptime-kuma.ts';

export type AdapterOptions = {
  /** Label naming the service. */
  serviceLabel?: string | null;
  /** JSONata mapping (generic only). */
  mapping?: string | null;
};

export async function parseAlerts(
  source: WebhookAlertSource,
  payload: unknown,
  options: AdapterOptions = {},
): Promise<ParsedPayload> {
  switch (source) {
    case 'uptime-kuma':
      return parseUptimeKuma(payload, options);
    case 'alertmanager':
      return parseAlertmanager(payload, options);
    case 'grafana':
      return parseGrafana(payload, options);
    case 'generic':
      return parseGeneric(payload, options.mapping);
  }
}
