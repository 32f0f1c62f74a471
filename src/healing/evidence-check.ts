// Whether a remembered fix's evidence holds for a new incident. Resemblance
// of the alert only nominates a fix; this decides whether the cause is the
// same: every template the fix recorded must be seen again and every probe
// must answer as it did, and no evidence that identified a *different*
// remembered cause of the service may be present. Pure: the service gathers
// the text and runs the probes, this only compares.
import type { Probe, StoredIncident } from '../memory/incident-memory.ts';
import type { MaskedText } from './log-templates.ts';
import { maskLine, maskText, templateFound } from './log-templates.ts';

export type EvidenceStatus =
  /** Everything recorded was seen again, nothing contradicts it. */
  | 'confirmed'
  /** Some of it was seen, the rest could not be checked or was not seen; nothing contradicts it. */
  | 'partial'
  /** None of it was seen. */
  | 'unconfirmed'
  /** A probe answered otherwise, or another remembered cause's evidence is present. */
  | 'contradicted'
  /** The fix was remembered without evidence (before evidence was kept). */
  | 'unrecorded';

export type EvidenceVerdict = {
  status: EvidenceStatus;
  /** Templates seen and probes that answered as expected. */
  confirmed: string[];
  /** Templates not seen and probes that could not run. */
  missing: string[];
  /** What speaks against the cause. */
  contradictions: string[];
};

export type ProbeResult = { probe: Probe; ran: boolean; output: string };

export type EvidenceInput = {
  candidate: Pick<StoredIncident, 'id' | 'evidence' | 'probes' | 'fix'> &
    Partial<Pick<StoredIncident, 'symptoms' | 'logExcerpt'>>;
  /** Everything gathered for the new incident: alert text, logs, collectors' and probes' output. */
  text: string | MaskedText;
  probes: ProbeResult[];
  /** The service's other remembered causes. */
  rivals: ReadonlyArray<Pick<StoredIncident, 'id' | 'evidence' | 'fix' | 'rootCause'>>;
};

const sameFix = (a: StoredIncident['fix'], b: StoredIncident['fix']) =>
  !!a &&
  !!b &&
  a.action === b.action &&
  JSON.stringify(a.parameters) === JSON.stringify(b.parameters);

/** Whether the output holds what the probe expects (compared as a masked template). */
export function probeConfirms(expect: string, output: string): boolean {
  return templateFound(maskLine(expect), maskText(output));
}

export function checkEvidence(input: EvidenceInput): EvidenceVerdict {
  const text = typeof input.text === 'string' ? maskText(input.text) : input.text;
  const confirmed: string[] = [];
  const missing: string[] = [];
  const contradictions: string[] = [];
  const own = new Set(input.candidate.evidence);
  // What the candidate's own incident showed: a rival's template seen there
  // too does not tell the two causes apart.
  const ownText = maskText(
    [input.candidate.symptoms ?? '', input.candidate.logExcerpt ?? ''].join('\n'),
  );
  for (const t of input.candidate.evidence) (templateFound(t, text) ? confirmed : missing).push(t);
  for (const p of input.candidate.probes) {
    const r = input.probes.find(
      (x) =>
        x.probe.action === p.action &&
        JSON.stringify(x.probe.parameters) === JSON.stringify(p.parameters),
    );
    const name = `probe ${p.action} ${JSON.stringify(p.parameters)}`;
    if (!r || !r.ran) missing.push(`${name} (could not run)`);
    else if (probeConfirms(p.expect, r.output)) confirmed.push(`${name} shows "${p.expect}"`);
    else
      contradictions.push(
        `${name} does not show "${p.expect}"; it answered: ${r.output.slice(0, 200)}`,
      );
  }
  for (const rival of input.rivals) {
    // Another incident with the same fix is the same remedy: no harm in it.
    if (rival.id === input.candidate.id || sameFix(rival.fix, input.candidate.fix)) continue;
    const seen = rival.evidence.filter(
      (t) => !own.has(t) && !templateFound(t, ownText) && templateFound(t, text),
    );
    if (seen.length > 0)
      contradictions.push(
        `the evidence of remembered incident ${rival.id} (${rival.rootCause || 'another cause'}, fixed by ${rival.fix?.action ?? 'nothing'}) is present: "${seen[0]}"`,
      );
  }
  const recorded = input.candidate.evidence.length + input.candidate.probes.length;
  const status: EvidenceStatus =
    contradictions.length > 0
      ? 'contradicted'
      : recorded === 0
        ? 'unrecorded'
        : missing.length === 0
          ? 'confirmed'
          : confirmed.length > 0
            ? 'partial'
            : 'unconfirmed';
  return { status, confirmed, missing, contradictions };
}

/** One line on why the evidence does not settle it, for the model and the timeline. */
export function evidenceDifference(v: EvidenceVerdict): string {
  const parts = [
    ...v.contradictions,
    ...(v.missing.length ? [`not seen: ${v.missing.map((m) => `"${m}"`).join(', ')}`] : []),
  ];
  if (v.status === 'unrecorded') parts.push('no evidence was recorded with this fix');
  return parts.join('; ') || 'none';
}
