// Picks the adapter for a source. Every adapter returns the same
// ParsedPayload; a payload that is malformed as a whole raises UserError.
// Whatever the adapter, an alert whose key (service, fingerprint) is too
// long for the database's index is rejected here, alone, rather than fail
// its whole batch at insert.
import type { NormalizedAlert, ParsedPayload, WebhookAlertSource } from '../alert.ts';
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

/** Longest service name and fingerprint, in UTF-8 bytes. */
export const maxKeyBytes = 1000;

function keyProblem(a: NormalizedAlert): string | undefined {
  for (const [field, value] of [
    ['service', a.service],
    ['fingerprint', a.fingerprint],
  ] as const) {
    const bytes = Buffer.byteLength(value);
    if (bytes > maxKeyBytes)
      return `${field}: is ${bytes} bytes long; the longest accepted is ${maxKeyBytes}`;
  }
  return undefined;
}

function parse(
  source: WebhookAlertSource,
  payload: unknown,
  options: AdapterOptions,
): ParsedPayload | Promise<ParsedPayload> {
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

export async function parseAlerts(
  source: WebhookAlertSource,
  payload: unknown,
  options: AdapterOptions = {},
): Promise<ParsedPayload> {
  const parsed = await parse(source, payload, options);
  const alerts: NormalizedAlert[] = [];
  const rejected = [...parsed.rejected];
  parsed.alerts.forEach((a, index) => {
    const problem = keyProblem(a);
    if (problem) rejected.push({ index, reason: problem });
    else alerts.push(a);
  });
  return { ...parsed, alerts, rejected };
}
