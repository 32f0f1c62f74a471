// Gathers and weighs the evidence for remembered fixes: runs read-only
// probes, checks each nominated fix's evidence against what was gathered and
// asks decide() what would happen. Used by the pipeline's recall and by
// `memory search`, so the search reports exactly what the gate would do.
import { errorMessage } from '../errors.ts';
import type { ActionCatalogue } from '../exec/action-catalogue.ts';
import type { Executor } from '../exec/executor.ts';
import { outcomeText } from '../exec/executor.ts';
import type { Incident } from '../incidents/incident-store.ts';
import type { IncidentMemory, Probe, SimilarIncident } from '../memory/incident-memory.ts';
import type { GateInput, GateOutcome } from './decide.ts';
import { decide } from './decide.ts';
import type { EvidenceVerdict, ProbeResult } from './evidence-check.ts';
import { checkEvidence, evidenceDifference } from './evidence-check.ts';
import type { Candidate, Difference, Evidence, SearchGate } from './healing-types.ts';
import { maskText, mineTemplates, rarestTemplates, templateFound } from './log-templates.ts';

const maxEvidenceChars = 4000;

export function incidentText(i: Incident): string {
  const labels = Object.entries(i.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const notes = Object.entries(i.annotations)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return [i.summary, `service ${i.service}`, labels, notes].filter(Boolean).join('\n');
}

/**
 * What memory is searched with: the alert's own words, without the lines
 * that only name the service (the search is scoped to it already).
 */
export function recallText(i: Incident): string {
  const labels = Object.entries(i.labels)
    .filter(([, v]) => v !== i.service)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const notes = Object.entries(i.annotations)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return [i.summary, labels, notes].filter(Boolean).join('\n');
}

/** Whether a piece of evidence is something the system said (not our note that it could not run). */
export const said = (e: Evidence) => e.ok || e.ran === true;

export const clip = (s: string, n = maxEvidenceChars) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Everything gathered for an incident, as one text that evidence is looked for in. */
export function evidenceText(i: Incident, evidence: readonly Evidence[]): string {
  return [incidentText(i), ...evidence.filter(said).map((e) => e.output)].join('\n');
}

/** The lines an incident's evidence is remembered by when the diagnosis cited none. */
export function fallbackLines(i: Incident, evidence: readonly Evidence[]): string[] {
  return [...alertLogs(i), ...evidence.filter(said).map((e) => e.output)].flatMap((t) =>
    t.split(/\r?\n/),
  );
}

/**
 * The alert's logs: annotations named like logs or holding several lines. A
 * one-line description or detail is the alert's wording, which made it
 * resemble a past incident; it says nothing about the cause, and its words
 * vary from one occurrence to the next (a refused connection one time, a
 * reset the next).
 */
export function alertLogs(i: Pick<Incident, 'annotations'>): string[] {
  return Object.entries(i.annotations)
    .filter(([k, v]) => /log|output|stderr|stdout|trace|excerpt|lines/i.test(k) || v.includes('\n'))
    .map(([, v]) => v);
}

/**
 * The templates a fix is remembered with: the lines the diagnosis cited that
 * really are in the gathered evidence (a paraphrase would never be seen
 * again), else the lines gathered, rarest first; at most a dozen.
 */
export function evidenceTemplates(
  cited: readonly string[],
  gathered: string,
  fallback: readonly string[],
): string[] {
  const text = maskText(gathered);
  const real = mineTemplates(cited).filter((t) => templateFound(t, text));
  return real.length ? real.slice(0, 12) : rarestTemplates(fallback, 12);
}

function probeResults(wanted: Probe[], ran: Evidence[]): ProbeResult[] {
  return wanted.map((probe) => {
    const e = ran.find(
      (r) =>
        r.action === probe.action &&
        JSON.stringify(r.parameters ?? {}) === JSON.stringify(probe.parameters),
    );
    return { probe, ran: !!e && said(e), output: e?.output ?? '' };
  });
}

export type EvidenceJudgeDeps = {
  memory: IncidentMemory;
  catalogue: ActionCatalogue;
  executor: Executor;
};

export class EvidenceJudge {
  constructor(private readonly d: EvidenceJudgeDeps) {}

  /**
   * Judges each nominated fix on the evidence (the alert's text and what was
   * gathered, probes included): a candidate, or a difference for diagnosis.
   */
  async judgeWith(
    service: string | null,
    alertText: string,
    nominated: SimilarIncident[],
    gathered: Evidence[],
  ) {
    const candidates: Candidate[] = [];
    const differences: Difference[] = [];
    const judged = new Map<
      string,
      {
        evidence: EvidenceVerdict;
        outcome: GateOutcome;
        reason: string;
        risk: GateInput['risk'];
      }
    >();
    if (nominated.length === 0) return { candidates, differences, judged };
    const text = maskText([alertText, ...gathered.filter(said).map((e) => e.output)].join('\n'));
    const rivals = await this.d.memory.evidenceOf(service);
    for (const m of nominated) {
      const fix = m.incident.fix!;
      const verdict = checkEvidence({
        candidate: m.incident,
        text,
        probes: probeResults(m.incident.probes, gathered),
        rivals,
      });
      // An action that does not render is refused by the gate in remediate,
      // where the refusal is recorded; here only the evidence is judged.
      const rendered = await this.riskOf(fix.action, fix.parameters);
      const d = decide({
        source: 'memory',
        risk: rendered.risk === 'invalid' ? 'change' : rendered.risk,
        evidence: verdict.status,
        difference: evidenceDifference(verdict),
      });
      judged.set(m.incident.id, {
        evidence: verdict,
        outcome: d.outcome,
        reason: d.reason,
        risk: rendered.risk,
      });
      if (d.outcome === 'diagnose' || d.outcome === 'refuse') {
        differences.push({
          memoryId: m.incident.id,
          title: m.incident.title,
          rootCause: m.incident.rootCause,
          fix,
          score: m.score,
          why: d.reason,
        });
        continue;
      }
      candidates.push({
        source: 'memory',
        action: fix.action,
        parameters: fix.parameters,
        memoryId: m.incident.id,
        score: m.score,
        evidence: verdict,
        title: m.incident.title,
        rootCause: m.incident.rootCause,
      });
    }
    return { candidates, differences, judged };
  }

  /**
   * What the gate would do for an alert's text (and logs) today: the similar
   * past incidents, each with its evidence verdict, risk and decision. Probes
   * run only when asked (they are read actions, but a search should not act).
   */
  async explain(
    text: string,
    options: { service?: string; topK?: number; runProbes?: boolean } = {},
  ): Promise<Array<SimilarIncident & { gate: SearchGate }>> {
    const matches = await this.d.memory.similar(text, {
      topK: options.topK ?? 3,
      ...(options.service ? { service: options.service } : {}),
    });
    const nominated = matches.filter((m) => m.autoApply && m.incident.fix);
    const probes = options.runProbes
      ? await this.runProbes(
          'memory-search',
          nominated.flatMap((m) => m.incident.probes),
        )
      : [];
    const out: Array<SimilarIncident & { gate: SearchGate }> = [];
    for (const m of matches) {
      if (!nominated.includes(m)) {
        out.push({
          ...m,
          gate: { decision: 'not_nominated', reason: m.reason ?? 'not nominated' },
        });
        continue;
      }
      const { judged } = await this.judgeWith(m.incident.service, text, [m], probes);
      const j = judged.get(m.incident.id)!;
      const unprobed =
        !options.runProbes && m.incident.probes.length > 0
          ? ' (probes were not run by this search; the real gate runs them)'
          : '';
      out.push({
        ...m,
        gate: {
          decision: j.outcome,
          reason: `${j.reason}${unprobed}`,
          risk: j.risk,
          evidence: j.evidence,
        },
      });
    }
    return out;
  }

  /** The catalogue's risk of an action, or why it is not a valid one. */
  async riskOf(
    action: string,
    parameters: Record<string, unknown>,
  ): Promise<Pick<GateInput, 'risk' | 'invalidReason'>> {
    try {
      // Rendering validates the action and every parameter against the catalogue.
      return { risk: (await this.d.catalogue.render(action, parameters)).action.risk };
    } catch (err) {
      return { risk: 'invalid', invalidReason: errorMessage(err) };
    }
  }

  /** Runs read-only probes, each once; anything but a `read` action is not run. */
  async runProbes(callerId: string, probes: Probe[]): Promise<Evidence[]> {
    // Read actions, independent of each other: each distinct one once, all at once.
    const distinct = new Map(probes.map((p) => [`${p.action} ${JSON.stringify(p.parameters)}`, p]));
    return Promise.all(
      [...distinct.values()].map((p) => this.runRead(callerId, p.action, p.parameters)),
    );
  }

  async runRead(
    callerId: string,
    action: string,
    parameters: Record<string, unknown>,
  ): Promise<Evidence> {
    const given = Object.keys(parameters).length ? { parameters } : {};
    try {
      const spec = await this.d.catalogue.get(action);
      if (spec.risk !== 'read')
        return {
          action,
          ...given,
          ok: false,
          output: `not gathered: ${action} is ${spec.risk}, evidence uses read actions only`,
        };
      const o = await this.d.executor.runAction(action, parameters, {
        kind: 'healing',
        id: callerId,
      });
      const { ok, output } = outcomeText(o);
      return { action, ...given, ok, ran: o.status !== 'refused', output: clip(output) };
    } catch (err) {
      return { action, ...given, ok: false, output: `could not run: ${errorMessage(err)}` };
    }
  }
}
