// The steps of auto-healing. Each takes the pipeline's state (one JSON item
// that flows through the auto-heal workflow) and returns the next state; the
// workflow nodes in healing-nodes.ts are thin wrappers, so the engine makes
// the pipeline durable and visible while the decisions live here.
//
// Invariants: the model never runs anything, it proposes a catalogue action;
// the risk that counts is the catalogue's (or the model's, when higher);
// resemblance only nominates a remembered fix, its evidence decides (the
// gate is decide() in decide.ts); `change` runs only as a known fix whose
// evidence is confirmed or with the validator's AGREED; `dangerous` runs only
// with a person's approval; a fix that fails verification is never applied
// automatically again.
import { z } from 'zod';

import type { ApprovalService } from '../approvals/approval-service.ts';
import type { Config } from '../config/load.ts';
import { errorMessage } from '../errors.ts';
import type { ActionCatalogue } from '../exec/action-catalogue.ts';
import type { ExecOutcome, Executor, Risk } from '../exec/executor.ts';
import { outcomeText } from '../exec/executor.ts';
import { checkConsensus } from '../llm/consensus.ts';
import type { LlmGateway } from '../llm/gateway.ts';
import { chatStructured } from '../llm/structured-output.ts';
import type { Logger } from '../log.ts';
import type { IncidentMemory, Probe, SimilarIncident } from '../memory/incident-memory.ts';
import type { MonitorService } from '../monitors/monitor-service.ts';
import type { NotificationService } from '../notify/notification-service.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { Incident } from '../incidents/incident-store.ts';
import type { GateInput, GateOutcome } from './decide.ts';
import { decide } from './decide.ts';
import type { EvidenceVerdict, ProbeResult } from './evidence-check.ts';
import { checkEvidence, evidenceDifference } from './evidence-check.ts';
import { maskText, mineTemplates, templateFound } from './log-templates.ts';
import type { HandResolution, MemoryCorrection } from './teaching.ts';
import { editRemembered, exportRunbooks, importRunbooks, resolveByHand } from './teaching.ts';

export type Candidate = {
  source: 'memory' | 'model' | 'approved';
  action: string;
  parameters: Record<string, unknown>;
  /** Incident memory entry the fix came from. */
  memoryId?: string;
  score?: number;
  /** The risk the model claimed, if it proposed this. */
  claimedRisk?: Risk;
  diagnosis?: Diagnosis;
  approvalId?: number;
  approvedBy?: string;
  /** For a remembered fix: whether its evidence holds for this incident. */
  evidence?: EvidenceVerdict;
  /** For a remembered fix: the past incident's title and root cause. */
  title?: string;
  rootCause?: string;
};

/** A similar past incident whose fix was not run, and why: the model and the person see it. */
export type Difference = {
  memoryId: string;
  title: string;
  rootCause: string;
  fix: { action: string; parameters: Record<string, unknown> } | null;
  score: number;
  why: string;
};

/** What the gate would do with a search's match. */
export type SearchGate = {
  decision: GateOutcome | 'not_nominated';
  reason: string;
  risk?: GateInput['risk'];
  evidence?: EvidenceVerdict;
};

export type Evidence = {
  action: string;
  parameters?: Record<string, unknown>;
  ok: boolean;
  output: string;
};

export type Attempt = {
  action: string;
  parameters: Record<string, unknown>;
  source: Candidate['source'];
  decision: 'ran' | 'refused' | 'approval_requested';
  reason: string;
  verified?: boolean;
};

/** What flows through the auto-heal workflow. */
export type HealingState = {
  kind: 'incident' | 'approval';
  incidentId: number;
  approvalId?: number;
  candidates?: Candidate[];
  evidence?: Evidence[];
  diagnosis?: Diagnosis;
  /** Similar past incidents whose evidence differs. */
  differences?: Difference[];
  attempts?: Attempt[];
  resolvedBy?: Candidate;
  /** Why the pipeline handed over to a person. */
  reason?: string;
};

export const diagnosisSchema = z.object({
  summary: z.string().min(1).max(1000),
  rootCause: z.string().min(1).max(2000),
  confidence: z.number().min(0).max(1),
  action: z.object({
    name: z.string().min(1).max(64),
    parameters: z.record(z.unknown()),
  }),
  risk: z.enum(['read', 'change', 'dangerous']),
  /** The log lines and outputs, quoted, that show the root cause: kept with the fix. */
  evidence: z.array(z.string().min(1).max(1000)).max(20).optional(),
});
export type Diagnosis = z.infer<typeof diagnosisSchema>;

const riskOrder: Record<Risk, number> = { read: 0, change: 1, dangerous: 2 };
const maxEvidenceChars = 4000;

export type HealingDeps = {
  incidents: IncidentService;
  memory: IncidentMemory;
  llm: LlmGateway;
  executor: Executor;
  catalogue: ActionCatalogue;
  approvals: ApprovalService;
  monitors: MonitorService;
  notifications: NotificationService;
  logger: Logger;
  settings: Config['heal'];
};

type RemediationResult =
  | { outcome: 'resolved'; state: HealingState }
  | { outcome: 'failed'; state: HealingState }
  | { outcome: 'awaiting_approval'; state: HealingState };

function incidentText(i: Incident): string {
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
function recallText(i: Incident): string {
  const labels = Object.entries(i.labels)
    .filter(([, v]) => v !== i.service)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const notes = Object.entries(i.annotations)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return [i.summary, labels, notes].filter(Boolean).join('\n');
}

const clip = (s: string, n = maxEvidenceChars) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Everything gathered for an incident, as one text that evidence is looked for in. */
export function evidenceText(i: Incident, evidence: readonly Evidence[]): string {
  return [incidentText(i), ...evidence.filter((e) => e.ok).map((e) => e.output)].join('\n');
}

/** The lines an incident's evidence is remembered by when the diagnosis cited none. */
export function fallbackLines(i: Incident, evidence: readonly Evidence[]): string[] {
  return [
    ...Object.values(i.annotations),
    ...evidence.filter((e) => e.ok).map((e) => e.output),
  ].flatMap((t) => t.split(/\r?\n/));
}

/**
 * The templates a fix is remembered with: the lines the diagnosis cited that
 * really are in the gathered evidence (a paraphrase would never be seen
 * again), else every line gathered; at most a dozen.
 */
export function evidenceTemplates(
  cited: readonly string[],
  gathered: string,
  fallback: readonly string[],
): string[] {
  const text = maskText(gathered);
  const real = mineTemplates(cited).filter((t) => templateFound(t, text));
  return (real.length ? real : mineTemplates(fallback)).slice(0, 12);
}

function probeResults(wanted: Probe[], ran: Evidence[]): ProbeResult[] {
  return wanted.map((probe) => {
    const e = ran.find(
      (r) =>
        r.action === probe.action &&
        JSON.stringify(r.parameters ?? {}) === JSON.stringify(probe.parameters),
    );
    return { probe, ran: !!e?.ok, output: e?.output ?? '' };
  });
}

export class HealingService {
  constructor(private readonly d: HealingDeps) {}

  /**
   * Moves the incident on and returns it; undefined when it is resolved
   * already (its sender may resolve it while the pipeline runs, and a
   * resolved incident stays resolved).
   */
  private async transition(
    id: number,
    status: Incident['status'],
    message: string,
    evidence?: Record<string, unknown>,
  ): Promise<Incident | undefined> {
    try {
      return await this.d.incidents.setStatus(id, status, {
        message,
        actor: 'healing',
        ...(evidence ? { evidence } : {}),
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'incident_closed') throw err;
      return undefined;
    }
  }

  /** Moves the incident on; that it was resolved already is noted rather than fatal. */
  private async moveTo(
    id: number,
    status: Incident['status'],
    message: string,
    evidence?: Record<string, unknown>,
  ): Promise<Incident | undefined> {
    const incident = await this.transition(id, status, message, evidence);
    if (!incident)
      await this.event(id, 'healing.note', `${message} (the incident is already resolved)`);
    return incident;
  }

  private event(id: number, type: string, message: string, evidence?: Record<string, unknown>) {
    return this.d.incidents.addEvent(id, {
      type,
      message,
      actor: 'healing',
      ...(evidence ? { evidence } : {}),
    });
  }

  /**
   * Gathers the evidence first, then recalls similar past incidents: a
   * verified fix above the threshold is only nominated; it becomes a
   * candidate when its evidence holds (decide()), and otherwise goes to
   * diagnosis as a difference.
   */
  async recall(state: HealingState): Promise<{ known: boolean; state: HealingState }> {
    const open = await this.moveTo(
      state.incidentId,
      'investigating',
      'searching incident memory for similar past incidents',
    );
    const incident = open ?? (await this.d.incidents.get(state.incidentId));
    // Only this service's past incidents: a fix names its target, and another
    // service's look-alike problem is not this one.
    const matches = await this.d.memory.similar(recallText(incident), {
      topK: 3,
      service: incident.service,
    });
    // An incident that resolved itself is not probed: nothing runs for it, not even a read.
    if (!open) return { known: false, state: { ...state, candidates: [] } };
    const nominated = matches.filter((m) => m.autoApply && m.incident.fix);
    const gathered = state.evidence ?? (await this.collect(state.incidentId));
    const { candidates, differences, probes, judged } = await this.judge(
      incident,
      nominated,
      gathered,
    );
    // Similar incidents that were not even nominated are still hints for the model.
    for (const m of matches)
      if (!nominated.includes(m) && m.incident.fix)
        differences.push({
          memoryId: m.incident.id,
          title: m.incident.title,
          rootCause: m.incident.rootCause,
          fix: m.incident.fix,
          score: m.score,
          why: m.reason ?? 'not nominated',
        });
    await this.event(
      state.incidentId,
      'memory.matches',
      `${matches.length} similar past incident(s)`,
      {
        matches: matches.map((m) => {
          const j = judged.get(m.incident.id);
          return {
            id: m.incident.id,
            title: m.incident.title,
            score: Number(m.score.toFixed(3)),
            fix: m.incident.fix,
            autoApply: m.autoApply,
            reason: j?.reason ?? m.reason,
            ...(j ? { evidence: j.evidence, decision: j.outcome } : {}),
          };
        }),
      },
    );
    return {
      known: candidates.length > 0,
      state: { ...state, evidence: [...gathered, ...probes], candidates, differences },
    };
  }

  /** Runs each nominated fix's probes and decides whether its evidence holds. */
  private async judge(incident: Incident, nominated: SimilarIncident[], gathered: Evidence[]) {
    // A probe that a collector ran already is not run twice.
    const known = new Set(gathered.map((e) => `${e.action} ${JSON.stringify(e.parameters ?? {})}`));
    const probes = await this.runProbes(
      String(incident.id),
      nominated
        .flatMap((m) => m.incident.probes)
        .filter((p) => !known.has(`${p.action} ${JSON.stringify(p.parameters)}`)),
    );
    return {
      ...(await this.judgeWith(incident.service, incidentText(incident), nominated, [
        ...gathered,
        ...probes,
      ])),
      probes,
    };
  }

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
    const text = maskText(
      [alertText, ...gathered.filter((e) => e.ok).map((e) => e.output)].join('\n'),
    );
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

  resolveByHand(incidentId: number, input: HandResolution) {
    return resolveByHand(this.d, incidentId, input);
  }

  editMemory(id: string, correction: MemoryCorrection) {
    return editRemembered(this.d, id, correction);
  }

  importRunbooks(yamlText: string) {
    return importRunbooks(this.d, yamlText);
  }

  exportRunbooks() {
    return exportRunbooks(this.d);
  }

  /** The catalogue's risk of an action, or why it is not a valid one. */
  private async riskOf(
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
    const out: Evidence[] = [];
    const seen = new Set<string>();
    for (const p of probes) {
      const key = `${p.action} ${JSON.stringify(p.parameters)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(await this.runRead(callerId, p.action, p.parameters));
    }
    return out;
  }

  private async runRead(
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
      return { action, ...given, ok, output: clip(output) };
    } catch (err) {
      return { action, ...given, ok: false, output: `could not run: ${errorMessage(err)}` };
    }
  }

  /** Runs the configured read actions and records what they say. */
  private async collect(incidentId: number): Promise<Evidence[]> {
    await this.moveTo(incidentId, 'investigating', 'gathering evidence');
    const evidence: Evidence[] = [];
    for (const action of this.d.settings.evidenceActions)
      evidence.push(await this.runRead(String(incidentId), action, {}));
    await this.event(incidentId, 'evidence', `gathered ${evidence.length} piece(s) of evidence`, {
      evidence,
    });
    return evidence;
  }

  /** The evidence for diagnosis: gathered at recall already, else now. */
  async gatherEvidence(state: HealingState): Promise<HealingState> {
    if (state.evidence) return state;
    return { ...state, evidence: await this.collect(state.incidentId) };
  }

  /** Asks the orchestrator model for a diagnosis and one catalogue action. Never guesses without it. */
  async diagnose(state: HealingState): Promise<{ ok: boolean; state: HealingState }> {
    const incident = await this.d.incidents.get(state.incidentId);
    const actions = await this.d.catalogue.list();
    const catalogue = actions
      .map(
        (a) =>
          `- ${a.name} (risk ${a.risk}): ${a.description}${Object.keys(a.params).length ? ` params: ${Object.keys(a.params).join(', ')}` : ''}`,
      )
      .join('\n');
    const evidence = (state.evidence ?? [])
      .map(
        (e) =>
          `## ${e.action}${e.parameters ? ` ${JSON.stringify(e.parameters)}` : ''}${e.ok ? '' : ' (failed)'}\n${e.output}`,
      )
      .join('\n\n');
    const similar = (state.differences ?? [])
      .map(
        (d) =>
          `- past incident ${d.memoryId} "${d.title}" (score ${d.score.toFixed(2)}): root cause ${d.rootCause || 'not recorded'}; fixed by ${d.fix ? `${d.fix.action} ${JSON.stringify(d.fix.parameters)}` : 'nothing'}. Not applied: ${d.why}`,
      )
      .join('\n');
    try {
      const model = this.d.llm.modelFor('orchestrator');
      const { value, repairs } = await chatStructured({
        llm: this.d.llm,
        model,
        schema: diagnosisSchema,
        messages: [
          {
            role: 'system',
            content:
              'You are a site reliability engineer diagnosing a production incident. Use only the evidence given. ' +
              'Propose exactly one action, by name, from the catalogue below, with its parameters; never a shell command. ' +
              'State the risk of the action honestly. In "evidence", quote verbatim the log lines or outputs that show the root cause. ' +
              'A similar past incident is only a hint: its fix was not applied because the evidence differs; check it against the evidence. ' +
              'Reply with JSON only.\n\nCatalogue:\n' +
              catalogue,
          },
          {
            role: 'user',
            content: `Incident:\n${incidentText(incident)}\n\nEvidence:\n${evidence || '(none)'}${similar ? `\n\nSimilar past incidents (similar past incident; evidence differs):\n${similar}` : ''}`,
          },
        ],
      });
      await this.event(state.incidentId, 'diagnosis', value.summary, {
        model,
        repairs,
        diagnosis: value,
      });
      return {
        ok: true,
        state: {
          ...state,
          diagnosis: value,
          candidates: [
            {
              source: 'model',
              action: value.action.name,
              parameters: value.action.parameters,
              claimedRisk: value.risk,
              diagnosis: value,
            },
          ],
        },
      };
    } catch (err) {
      const reason = `no diagnosis: ${errorMessage(err)}`;
      await this.event(state.incidentId, 'diagnosis.failed', reason);
      return { ok: false, state: { ...state, reason } };
    }
  }

  /** Tries the candidates in order, each through the gate, then verifies. */
  async remediate(state: HealingState): Promise<RemediationResult> {
    const attempts: Attempt[] = [...(state.attempts ?? [])];
    const candidates = (state.candidates ?? []).slice(0, this.d.settings.maxAttempts);
    const differences: Difference[] = [...(state.differences ?? [])];
    let reason = 'no candidate fix';
    for (const c of candidates) {
      const gate = await this.gate(state.incidentId, c);
      if (gate.decision === 'refuse' || gate.decision === 'diagnose') {
        attempts.push({
          action: c.action,
          parameters: c.parameters,
          source: c.source,
          decision: 'refused',
          reason: gate.reason,
        });
        await this.event(state.incidentId, 'gate.refused', `${c.action}: ${gate.reason}`, {
          candidate: c,
        });
        reason = gate.reason;
        // A remembered fix that the gate held back is a hint for the diagnosis.
        if (gate.decision === 'diagnose' && c.memoryId)
          differences.push({
            memoryId: c.memoryId,
            title: c.title ?? '',
            rootCause: c.rootCause ?? '',
            fix: { action: c.action, parameters: c.parameters },
            score: c.score ?? 0,
            why: gate.reason,
          });
        continue;
      }
      if (gate.decision === 'approval') {
        const approval = await this.d.approvals.request({
          incidentId: state.incidentId,
          action: c.action,
          parameters: c.parameters,
          risk: gate.risk,
          reason: gate.reason,
          proposal: c.diagnosis ?? null,
        });
        attempts.push({
          action: c.action,
          parameters: c.parameters,
          source: c.source,
          decision: 'approval_requested',
          reason: gate.reason,
        });
        return {
          outcome: 'awaiting_approval',
          state: { ...state, attempts, approvalId: approval.id },
        };
      }
      // Nothing to fix any more: never act on an incident that resolved itself.
      // The move to remediating is the check: it fails on a resolved incident.
      const remediating = await this.transition(
        state.incidentId,
        'remediating',
        `running ${c.action} ${JSON.stringify(c.parameters)}: ${gate.reason}`,
      );
      if (!remediating) {
        await this.event(
          state.incidentId,
          'healing.note',
          `not running ${c.action}: the incident resolved on its own`,
        );
        return {
          outcome: 'failed',
          state: { ...state, attempts, reason: 'resolved on its own before any action ran' },
        };
      }
      const outcome = await this.d.executor.runAction(
        c.action,
        c.parameters,
        { kind: 'healing', id: String(state.incidentId) },
        undefined,
        false,
        c.source === 'approved' && c.approvalId
          ? { id: c.approvalId, by: c.approvedBy ?? 'unknown' }
          : undefined,
      );
      const ran = outcomeText(outcome);
      await this.event(
        state.incidentId,
        'action.result',
        `${c.action} ${ran.ok ? 'succeeded' : 'failed'}`,
        {
          action: c.action,
          parameters: c.parameters,
          output: clip(ran.output),
          status: outcome.status,
        },
      );
      const verified = ran.ok && (await this.verify(state.incidentId, outcome));
      attempts.push({
        action: c.action,
        parameters: c.parameters,
        source: c.source,
        decision: 'ran',
        reason: gate.reason,
        verified,
      });
      if (verified) return { outcome: 'resolved', state: { ...state, attempts, resolvedBy: c } };
      reason = ran.ok
        ? `${c.action} ran but the problem did not go away`
        : `${c.action} failed: ${clip(ran.output, 300)}`;
      // A known fix that did not work is never applied automatically again.
      if (c.memoryId) await this.d.memory.feedback(c.memoryId, { verified: false, note: reason });
    }
    return { outcome: 'failed', state: { ...state, attempts, differences, reason } };
  }

  /** Gathers the gate's inputs for a candidate and carries out decide(): asks the validator when it says so. */
  private async gate(
    incidentId: number,
    c: Candidate,
  ): Promise<{ decision: 'run' | 'refuse' | 'approval' | 'diagnose'; reason: string; risk: Risk }> {
    const rendered = await this.riskOf(c.action, c.parameters);
    let risk: Risk = rendered.risk === 'invalid' ? 'dangerous' : rendered.risk;
    if (c.claimedRisk && riskOrder[c.claimedRisk] > riskOrder[risk]) risk = c.claimedRisk;
    const input: GateInput = {
      source: c.source,
      ...(rendered.risk === 'invalid' ? rendered : { risk }),
      ...(c.evidence
        ? { evidence: c.evidence.status, difference: evidenceDifference(c.evidence) }
        : c.source === 'memory'
          ? { evidence: 'unrecorded' as const }
          : {}),
      ...(c.approvedBy ? { approvedBy: c.approvedBy } : {}),
    };
    let d = decide(input);
    if (d.outcome === 'ask_validator') {
      const validator = await this.secondOpinion(incidentId, c, risk);
      d = decide({ ...input, validator: validator.verdict });
      if (validator.detail) d = { ...d, reason: `${d.reason} (${validator.detail})` };
    }
    const decision = (
      { run: 'run', ask_person: 'approval', diagnose: 'diagnose', refuse: 'refuse' } as const
    )[d.outcome === 'ask_validator' ? 'refuse' : d.outcome];
    const score =
      c.source === 'memory' && c.score !== undefined ? ` (score ${c.score.toFixed(2)})` : '';
    return { decision, reason: `${d.reason}${score}`, risk };
  }

  /** The validator model's verdict on a candidate; 'unavailable' when none answered. */
  private async secondOpinion(
    incidentId: number,
    c: Candidate,
    risk: Risk,
  ): Promise<{ verdict: NonNullable<GateInput['validator']>; detail?: string }> {
    const incident = await this.d.incidents.get(incidentId);
    const diagnosis =
      c.source === 'memory'
        ? [
            `A remembered fix from past incident ${c.memoryId} "${c.title ?? ''}".`,
            `Its root cause: ${c.rootCause || 'not recorded'}`,
            c.evidence
              ? `Its evidence here: seen ${c.evidence.confirmed.map((x) => `"${x}"`).join(', ') || 'nothing'}; ${evidenceDifference(c.evidence)}`
              : 'No evidence was recorded with it.',
          ].join('\n')
        : c.diagnosis
          ? `${c.diagnosis.summary}\nRoot cause: ${c.diagnosis.rootCause}`
          : '(none)';
    try {
      const verdict = await checkConsensus(
        {
          incident: incidentText(incident),
          diagnosis,
          action: { name: c.action, parameters: c.parameters, risk },
        },
        { llm: this.d.llm },
      );
      await this.event(incidentId, 'consensus', `${verdict.model}: ${verdict.verdict}`, {
        verdict,
      });
      return { verdict: verdict.verdict, detail: verdict.reasons.join('; ') };
    } catch (err) {
      return { verdict: 'unavailable', detail: errorMessage(err) };
    }
  }

  /** The monitor turns green, else the action's verify probe, else the sender resolves the alert. */
  private async verify(incidentId: number, outcome: ExecOutcome): Promise<boolean> {
    await this.moveTo(incidentId, 'verifying', 'verifying the fix');
    const incident = await this.d.incidents.get(incidentId);
    const monitorId =
      incident.source === 'monitor' ? Number(incident.fingerprint.replace(/^monitor:/, '')) : NaN;
    if (outcome.status === 'ran' && outcome.verify && !Number.isInteger(monitorId)) {
      await this.event(
        incidentId,
        'verify',
        `verify probe ${outcome.verify.ok ? 'passed' : 'failed'}`,
      );
      return outcome.verify.ok;
    }
    const deadline = Date.now() + this.d.settings.verifyTimeoutMs;
    for (;;) {
      if (Number.isInteger(monitorId)) {
        const m = await this.d.monitors.checkNow(monitorId);
        if (m.state === 'up') {
          await this.event(
            incidentId,
            'verify',
            `monitor ${m.name} is up: ${m.lastResult?.detail ?? ''}`,
          );
          return true;
        }
      } else if ((await this.d.incidents.get(incidentId)).status === 'resolved') {
        await this.event(incidentId, 'verify', 'the alert was resolved by its sender');
        return true;
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, this.d.settings.verifyIntervalMs));
    }
    await this.event(
      incidentId,
      'verify',
      `not healthy within ${this.d.settings.verifyTimeoutMs} ms`,
    );
    return false;
  }

  /** Stores the resolution so the next occurrence is fixed without the model; resolves the incident. */
  async learn(state: HealingState): Promise<HealingState> {
    const fix = state.resolvedBy!;
    const incident = await this.d.incidents.get(state.incidentId);
    const { events } = await this.d.incidents.show(state.incidentId);
    if (!events.some((e) => e.type === 'memory.stored')) {
      if (fix.memoryId) {
        await this.d.memory.feedback(fix.memoryId, {
          verified: true,
          note: `fixed incident ${incident.id}`,
        });
      } else {
        const gathered = state.evidence ?? [];
        const logExcerpt = gathered
          .map((e) => `${e.action}: ${e.output}`)
          .join('\n')
          .slice(0, 2000);
        const diagnosis = fix.diagnosis ?? state.diagnosis;
        const evidence = evidenceTemplates(
          diagnosis?.evidence ?? [],
          evidenceText(incident, gathered),
          fallbackLines(incident, gathered),
        );
        await this.d.memory.remember({
          title: incident.summary,
          symptoms: incidentText(incident),
          service: incident.service,
          logExcerpt,
          rootCause: fix.diagnosis?.rootCause ?? state.diagnosis?.rootCause ?? '',
          fix: { action: fix.action, parameters: fix.parameters },
          outcome: 'resolved',
          verified: true,
          evidence,
        });
      }
      await this.event(state.incidentId, 'memory.stored', `remembered: ${fix.action} fixes this`, {
        fix,
      });
    }
    if (incident.status !== 'resolved') {
      await this.moveTo(
        state.incidentId,
        'resolved',
        `fixed by ${fix.action} (${fix.source === 'memory' ? 'known fix' : fix.source === 'approved' ? 'approved' : 'diagnosed'})`,
      );
    }
    await this.d.notifications.notify({
      kind: 'resolved',
      title: `Resolved: ${incident.summary}`,
      text: `Warden ran ${fix.action} ${JSON.stringify(fix.parameters)} and verified the fix.`,
      dedupKey: `incident:${incident.id}:resolved`,
      incidentId: incident.id,
      severity: incident.severity,
    });
    return state;
  }

  /** Hands the incident to a person with everything gathered. */
  async escalate(state: HealingState): Promise<HealingState> {
    const incident = await this.d.incidents.get(state.incidentId);
    const reason = state.reason ?? 'automatic remediation did not fix it';
    // A problem that went away needs no person.
    if (incident.status === 'resolved') return state;
    if (incident.status !== 'escalated') {
      await this.moveTo(state.incidentId, 'escalated', reason, {
        attempts: state.attempts ?? [],
        evidence: state.evidence ?? [],
        diagnosis: state.diagnosis ?? null,
      });
    }
    await this.d.notifications.notify({
      kind: 'escalated',
      title: `Needs a person: ${incident.summary}`,
      text: [
        `Why: ${reason}`,
        ...(state.diagnosis
          ? [`Diagnosis: ${state.diagnosis.summary}`, `Root cause: ${state.diagnosis.rootCause}`]
          : []),
        ...(state.attempts ?? []).map(
          (a) =>
            `Tried ${a.action}: ${a.decision}${a.verified === false ? ', not verified' : ''} (${a.reason})`,
        ),
        ...(state.evidence ?? []).map((e) => `Evidence ${e.action}: ${clip(e.output, 500)}`),
      ].join('\n'),
      dedupKey: `incident:${incident.id}:escalated`,
      incidentId: incident.id,
      severity: incident.severity,
    });
    return state;
  }

  /** Continues after a person decided: an approval runs its exact action; anything else escalates. */
  async applyDecision(state: HealingState): Promise<{ approved: boolean; state: HealingState }> {
    const a = await this.d.approvals.get(state.approvalId!);
    if (a.status !== 'approved') {
      return {
        approved: false,
        state: {
          ...state,
          reason: `the approval request was ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}`,
        },
      };
    }
    return {
      approved: true,
      state: {
        ...state,
        candidates: [
          {
            source: 'approved',
            action: a.action,
            parameters: a.parameters,
            approvalId: a.id,
            approvedBy: a.decidedBy ?? 'unknown',
          },
        ],
      },
    };
  }
}
