// The auto-healing pipeline: how hard it tries and what evidence it gathers.
import { z } from 'zod';

import { commaList, domain, durationMs, envBoolean, setting } from './setting.ts';

const names = commaList(z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'must be catalogue action names'));

export const healDomain = domain(
  'heal',
  'Auto-healing: alert in, known fix or diagnosis, safety gate, verify, learn.',
  {
    enabled: setting({
      env: 'WARDEN_HEAL_ENABLED',
      schema: envBoolean,
      default: true,
      doc: 'Install and run the auto-heal workflow for every opened incident.',
    }),
    maxAttempts: setting({
      env: 'WARDEN_HEAL_MAX_ATTEMPTS',
      schema: z.coerce.number().int().min(1).max(10),
      default: 2,
      doc: 'Fixes tried per remediation step before it gives up.',
    }),
    verifyTimeoutMs: setting({
      env: 'WARDEN_HEAL_VERIFY_TIMEOUT_MS',
      schema: durationMs,
      default: 60_000,
      doc: 'How long a fix has to turn the monitor green (or the alert resolved).',
    }),
    verifyIntervalMs: setting({
      env: 'WARDEN_HEAL_VERIFY_INTERVAL_MS',
      schema: z.coerce.number().int().min(50),
      default: 2000,
      doc: 'How often verification checks again.',
    }),
    concurrency: setting({
      env: 'WARDEN_HEAL_CONCURRENCY',
      schema: z.coerce.number().int().min(1).max(100),
      default: 3,
      doc: 'Healing runs at once across all workers; more wait queued, so a storm never takes every worker from webhooks and schedules.',
    }),
    stormWindowSeconds: setting({
      env: 'WARDEN_HEAL_STORM_WINDOW_SECONDS',
      schema: z.coerce.number().int().min(1),
      default: 300,
      doc: 'Window over which opened incidents are counted for storm grouping and the storm pause.',
    }),
    stormGroupAfter: setting({
      env: 'WARDEN_HEAL_STORM_GROUP_AFTER',
      schema: z.coerce.number().int().min(1),
      default: 3,
      doc: 'Incidents of one service opened within the window before further ones are grouped under the first (not healed alone).',
    }),
    stormPauseAfter: setting({
      env: 'WARDEN_HEAL_STORM_PAUSE_AFTER',
      schema: z.coerce.number().int().min(1),
      default: 20,
      doc: 'Incidents opened within the window (all services) above which automatic actions pause and one summary escalation goes out.',
    }),
    evidenceActions: setting({
      env: 'WARDEN_HEAL_EVIDENCE_ACTIONS',
      schema: names,
      default: ['system.resources', 'supervisor.status', 'units.failed'],
      doc: 'Read actions whose output is gathered as evidence before asking the model (comma-separated).',
    }),
  },
);
