// Generic JSON alerts: each endpoint carries a JSONata expression that turns
// the sender's payload into one alert object or an array of them:
//   { status: "firing"|"resolved", service, summary, fingerprint?, severity?,
//     labels?, annotations?, startsAt?, endsAt? }
// Without a mapping the payload itself must already have that shape.
import jsonata from 'jsonata';

import { UserError } from '../../errors.ts';
import type { NormalizedAlert, ParsedPayload } from '../alert.ts';
import {
  collect,
  computeFingerprint,
  isRecord,
  kind,
  malformed,
  normalizeSeverity,
  parseTime,
  requireString,
  stringMap,
} from '../alert.ts';

type Expression = ReturnType<typeof jsonata>;

// A mapping runs on every request to its endpoint: bound its time and depth
// so a runaway expression fails that request instead of holding the server.
const guardrails = { timeout: 1000, stack: 300 };

/** Compiles a mapping, naming the syntax error when there is one. */
export function compileMapping(mapping: string): Expression {
  try {
    return jsonata(mapping, guardrails);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new UserError(
      'invalid_mapping',
      `mapping is not a valid JSONata expression: ${e.message ?? String(err)}${e.position !== undefined ? ` (at character ${e.position})` : ''}`,
    );
  }
}

function mappedAlert(item: unknown, field: string, raw: unknown): NormalizedAlert {
  if (!isRecord(item)) throw malformed(field, `must be an object, got ${kind(item)}`);
  const status = item.status;
  if (status !== 'firing' && status !== 'resolved')
    throw malformed(`${field}.status`, `must be "firing" or "resolved", got ${kind(status)}`);
  const service = requireString(item.service, `${field}.service`);
  const summary = requireString(item.summary, `${field}.summary`);
  const labels = stringMap(item.labels, `${field}.labels`);
  const annotations = stringMap(item.annotations, `${field}.annotations`);
  let fingerprint = item.fingerprint;
  if (fingerprint !== undefined && fingerprint !== null)
    fingerprint = requireString(
      typeof fingerprint === 'number' ? String(fingerprint) : fingerprint,
      `${field}.fingerprint`,
    );
  else fingerprint = computeFingerprint('generic', { ...labels, service });
  const severity = item.severity;
  if (severity !== undefined && typeof severity !== 'string')
    throw malformed(`${field}.severity`, `must be a string, got ${kind(severity)}`);
  return {
    source: 'generic',
    fingerprint: fingerprint as string,
    service,
    severity: normalizeSeverity(severity, 'warning'),
    status,
    summary,
    labels,
    annotations,
    startsAt: parseTime(item.startsAt, `${field}.startsAt`) ?? new Date(),
    endsAt: parseTime(item.endsAt, `${field}.endsAt`),
    raw,
  };
}

export async function parseGeneric(
  payload: unknown,
  mapping?: string | null,
): Promise<ParsedPayload> {
  let mapped: unknown = payload;
  if (mapping) {
    try {
      mapped = await compileMapping(mapping).evaluate(payload);
    } catch (err) {
      if (err instanceof UserError) throw err;
      const e = err as { message?: string; code?: string };
      throw malformed(
        'body',
        `the endpoint's mapping failed on this payload: ${e.message ?? e.code ?? String(err)}`,
      );
    }
  }
  if (mapped === undefined)
    throw malformed('body', 'the mapping produced nothing from this payload');
  const items = Array.isArray(mapped) ? mapped : [mapped];
  if (items.length === 0) throw malformed('body', 'contains no alerts');
  const { ok, rejected } = collect(
    items,
    Array.isArray(mapped) ? 'alerts' : 'alert',
    (item, field) => mappedAlert(item, field, item),
  );
  return { alerts: ok, rejected, skipped: [] };
}
