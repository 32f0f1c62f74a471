// Alert ingestion and noise control: how alerts are grouped into incidents,
// when an incident opens, when an alert counts as flapping, how big a
// payload may be.
import { z } from 'zod';

import { domain, setting } from './setting.ts';

const seconds = z.coerce.number().int().min(1);

export const alertsDomain = domain('alerts', 'Alert ingestion and noise control.', {
  groupWindowSeconds: setting({
    env: 'WARDEN_ALERTS_GROUP_WINDOW_SECONDS',
    schema: seconds,
    default: 900,
    doc: 'Firing alerts for one service and fingerprint within this window count towards opening one incident.',
  }),
  openAfter: setting({
    env: 'WARDEN_ALERTS_OPEN_AFTER',
    schema: z.coerce.number().int().min(1).max(1000),
    default: 1,
    doc: 'Firing alerts (within the group window) needed before an incident opens.',
  }),
  flappingTransitions: setting({
    env: 'WARDEN_ALERTS_FLAPPING_TRANSITIONS',
    schema: z.coerce.number().int().min(2).max(1000),
    default: 4,
    doc: 'Firing/resolved changes within the flapping window that mark an alert as flapping.',
  }),
  flappingWindowSeconds: setting({
    env: 'WARDEN_ALERTS_FLAPPING_WINDOW_SECONDS',
    schema: seconds,
    default: 3600,
    doc: 'Window over which firing/resolved changes are counted for flapping.',
  }),
  idempotencyWindowSeconds: setting({
    env: 'WARDEN_ALERTS_IDEMPOTENCY_WINDOW_SECONDS',
    schema: seconds,
    default: 600,
    doc: 'A notification sent again within this window (same body, or same Idempotency-Key header, to the same endpoint) is answered with its first results and stored once.',
  }),
  maxPayloadBytes: setting({
    env: 'WARDEN_ALERTS_MAX_PAYLOAD_BYTES',
    schema: z.coerce.number().int().min(1024),
    default: 262_144,
    doc: 'Largest alert webhook body accepted, in bytes; larger ones get 413.',
  }),
  approvalTtlSeconds: setting({
    env: 'WARDEN_APPROVAL_TTL_SECONDS',
    schema: seconds,
    default: 3600,
    doc: 'How long a request for human approval of a dangerous action stays open before it expires.',
  }),
});
