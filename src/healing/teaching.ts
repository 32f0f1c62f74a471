// Operators teach incident memory without a model: resolving an incident by
// hand with its root cause, evidence and fix, and importing or exporting
// runbooks (known problems with symptoms, evidence patterns, probes and the
// fix). What they write is reduced to templates exactly as at learn time, so
// a taught fix is judged on its evidence like a learnt one. Everything is
// checked against the catalogue before anything is stored: a bad runbook
// stores nothing.
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';

import { errorMessage, UserError } from '../errors.ts';
import type { ActionCatalogue } from '../exec/action-catalogue.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { Incident } from '../incidents/incident-store.ts';
import type {
  IncidentMemory,
  MemoryEdit,
  Probe,
  StoredIncident,
} from '../memory/incident-memory.ts';
import { alertLogs } from './evidence-judge.ts';
import { mineTemplates, rarestTemplates } from './log-templates.ts';

export type TeachingDeps = {
  incidents: IncidentService;
  memory: IncidentMemory;
  catalogue: ActionCatalogue;
};

const parameters = z.record(z.unknown()).default({});
export const probeSchema = z
  .object({
    action: z.string().min(1).max(64),
    parameters,
    expect: z.string().min(1).max(1000),
  })
  .strict();
const fixSchema = z.object({ action: z.string().min(1).max(64), parameters }).strict();

export const runbookSchema = z
  .object({
    title: z.string().trim().min(1).max(500),
    service: z.string().trim().min(1).max(100),
    symptoms: z.string().max(10_000).default(''),
    rootCause: z.string().max(2000).default(''),
    /** Log lines (or templates) that show this cause. */
    evidence: z.array(z.string().min(1).max(1000)).max(50).default([]),
    probes: z.array(probeSchema).max(10).default([]),
    fix: fixSchema,
    disabled: z.boolean().default(false),
  })
  .strict();
export type Runbook = z.infer<typeof runbookSchema>;
const runbookFile = z.object({ runbooks: z.array(runbookSchema).max(1000) }).strict();

export const handResolutionSchema = z
  .object({
    action: z.string().min(1).max(64),
    parameters,
    rootCause: z.string().trim().min(1).max(2000),
    evidence: z.array(z.string().min(1).max(1000)).max(50).default([]),
    probes: z.array(probeSchema).max(10).default([]),
    by: z.string().min(1).max(200),
  })
  .strict();
export type HandResolution = z.input<typeof handResolutionSchema>;

/** Checks the fix renders from the catalogue and each probe is a `read` action that renders. */
async function checkActions(
  catalogue: ActionCatalogue,
  fix: { action: string; parameters: Record<string, unknown> },
  probes: readonly Probe[],
  where: string,
): Promise<void> {
  try {
    await catalogue.render(fix.action, fix.parameters);
  } catch (err) {
    throw new UserError(
      'invalid_fix',
      `${where}: the fix is not a valid catalogue action: ${errorMessage(err)}`,
    );
  }
  for (const p of probes) {
    let risk: string;
    try {
      risk = (await catalogue.render(p.action, p.parameters)).action.risk;
    } catch (err) {
      throw new UserError(
        'invalid_probe',
        `${where}: probe ${p.action} is not a valid catalogue action: ${errorMessage(err)}`,
      );
    }
    if (risk !== 'read')
      throw new UserError(
        'invalid_probe',
        `${where}: probe ${p.action} is ${risk}; probes must be read actions`,
      );
  }
}

function incidentLines(i: Incident): string[] {
  return [i.summary, ...Object.values(i.annotations)].flatMap((t) => t.split(/\r?\n/));
}

/**
 * Resolves an incident by hand and remembers its fix with the evidence
 * given, else the alert's logs and what healing gathered for it.
 */
export async function resolveByHand(
  d: TeachingDeps,
  incidentId: number,
  input: HandResolution,
): Promise<{ incident: Incident; memory: StoredIncident }> {
  const parsed = handResolutionSchema.safeParse(input);
  if (!parsed.success)
    throw new UserError(
      'invalid_resolution',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  const r = parsed.data;
  const { incident, events } = await d.incidents.show(incidentId);
  const fix = { action: r.action, parameters: r.parameters };
  await checkActions(d.catalogue, fix, r.probes, `incident ${incidentId}`);
  const gathered = events
    .filter((e) => e.type === 'evidence')
    .flatMap((e) => {
      const items = (
        e.evidence as { evidence?: Array<{ ok?: boolean; ran?: boolean; output?: unknown }> }
      ).evidence;
      return (items ?? []).filter((x) => (x.ok || x.ran) && typeof x.output === 'string');
    })
    .flatMap((x) => String(x.output).split(/\r?\n/));
  const lines = r.evidence.length
    ? r.evidence
    : [...alertLogs(incident), ...gathered].flatMap((t) => t.split(/\r?\n/));
  const memory = await d.memory.remember({
    title: incident.summary,
    symptoms: incidentLines(incident).join('\n'),
    service: incident.service,
    logExcerpt: r.evidence.join('\n').slice(0, 2000),
    rootCause: r.rootCause,
    fix,
    outcome: 'resolved',
    // A person says this fixed it: that is the verification.
    verified: true,
    evidence: r.evidence.length ? mineTemplates(lines).slice(0, 12) : rarestTemplates(lines, 12),
    probes: r.probes,
  });
  await d.incidents.addEvent(incidentId, {
    type: 'memory.stored',
    message: `remembered: ${fix.action} fixes this (taught by ${r.by})`,
    actor: r.by,
    evidence: { memoryId: memory.id, fix, rootCause: r.rootCause, evidence: memory.evidence },
  });
  const resolved =
    incident.status === 'resolved'
      ? incident
      : await d.incidents.setStatus(incidentId, 'resolved', {
          message: `resolved by hand: ${r.rootCause}; fixed by ${fix.action} ${JSON.stringify(fix.parameters)}`,
          actor: r.by,
        });
  return { incident: resolved, memory };
}

export const memoryEditSchema = z
  .object({
    title: z.string().trim().min(1).max(500).optional(),
    rootCause: z.string().max(2000).optional(),
    fix: fixSchema.optional(),
    /** Log lines that show the cause; reduced to templates. Replaces the evidence. */
    evidenceLines: z.array(z.string().min(1).max(1000)).max(50).optional(),
    probes: z.array(probeSchema).max(10).optional(),
    disabled: z.boolean().optional(),
  })
  .strict();
export type MemoryCorrection = z.input<typeof memoryEditSchema>;

/** An operator's correction of a remembered fix, checked against the catalogue first. */
export async function editRemembered(
  d: TeachingDeps,
  id: string,
  input: MemoryCorrection,
): Promise<StoredIncident> {
  const parsed = memoryEditSchema.safeParse(input);
  if (!parsed.success)
    throw new UserError(
      'invalid_edit',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  const e = parsed.data;
  const current = await d.memory.get(id);
  const fix = e.fix ?? current.fix;
  if (fix && (e.fix || e.probes))
    await checkActions(d.catalogue, fix, e.probes ?? [], `incident memory ${id}`);
  const edit: MemoryEdit = {
    ...(e.title !== undefined ? { title: e.title } : {}),
    ...(e.rootCause !== undefined ? { rootCause: e.rootCause } : {}),
    ...(e.fix ? { fix: e.fix } : {}),
    ...(e.evidenceLines ? { evidence: mineTemplates(e.evidenceLines).slice(0, 12) } : {}),
    ...(e.probes ? { probes: e.probes } : {}),
    ...(e.disabled !== undefined ? { disabled: e.disabled } : {}),
  };
  return d.memory.edit(id, edit);
}

/** Parses a runbook file, naming the first thing wrong. */
export function parseRunbooks(text: string): Runbook[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new UserError('invalid_runbook', `not valid YAML: ${doc.errors[0]!.message}`);
  const parsed = runbookFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError(
      'invalid_runbook',
      `${i.path.join('.') || 'the file'}: ${i.message} (a runbook file is {runbooks: [{title, service, symptoms, rootCause, evidence, probes, fix}]})`,
    );
  }
  return parsed.data.runbooks;
}

/** Imports runbooks: all are checked first, then each is remembered as a verified fix. */
export async function importRunbooks(d: TeachingDeps, text: string): Promise<StoredIncident[]> {
  const runbooks = parseRunbooks(text);
  for (const [n, rb] of runbooks.entries())
    await checkActions(d.catalogue, rb.fix, rb.probes, `runbooks.${n} (${rb.title})`);
  const stored: StoredIncident[] = [];
  for (const rb of runbooks) {
    const m = await d.memory.remember({
      title: rb.title,
      symptoms: rb.symptoms,
      service: rb.service,
      logExcerpt: rb.evidence.join('\n').slice(0, 2000),
      rootCause: rb.rootCause,
      fix: rb.fix,
      outcome: 'resolved',
      verified: true,
      evidence: mineTemplates(rb.evidence).slice(0, 12),
      probes: rb.probes,
    });
    stored.push(rb.disabled ? await d.memory.edit(m.id, { disabled: true }) : m);
  }
  return stored;
}

/** Every remembered fix as a runbook file, importable again. */
export async function exportRunbooks(d: Pick<TeachingDeps, 'memory'>): Promise<string> {
  const runbooks: Runbook[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await d.memory.list({ limit: 1000, offset });
    for (const m of page)
      if (m.fix)
        runbooks.push({
          title: m.title,
          service: m.service ?? 'unknown',
          symptoms: m.symptoms,
          rootCause: m.rootCause,
          evidence: m.evidence,
          probes: m.probes,
          fix: m.fix,
          disabled: m.disabled || m.fixBlocked,
        });
    if (page.length < 1000) break;
  }
  return stringify({ runbooks: runbooks.reverse() });
}
