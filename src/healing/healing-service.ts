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
import type { IncidentMemory, SimilarIncident } from '../memory/incident-memory.ts';
import type { MonitorService } from '../monitors/monitor-service.ts';
import type { NotificationService } from '../notify/notification-service.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { Incident } from '../incidents/incident-store.ts';
import type { GateInput } from './decide.ts';
import { decide } from './decide.ts';
import { evidenceDifference } from './evidence-check.ts';
import {
  clip,
  EvidenceJudge,
  evidenceTemplates,
  evidenceText,
  fallbackLines,
  incidentText,
  recallText,
} from './evidence-judge.ts';
import type { Attempt, Candidate, Difference, Evidence, HealingState } from './healing-types.ts';
import { diagnosisSchema } from './healing-types.ts';
import type { HandResolution, MemoryCorrection } from './teaching.ts';
import { editRemembered, exportRunbooks, importRunbooks, resolveByHand } from './teaching.ts';

const riskOrder: Record<Risk, number> = { read: 0, change: 1, dangerous: 2 };

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
  /** Told how each incident the pipeline handled ended, and how long since it opened (metrics). */
  onOutcome?(o: { outcome: HealingOutcome; seconds: number }): void;
};

/** known_fix: a remembered fix ran; diagnosed: the model's; approved: a person's. */
export type HealingOutcome = 'known_fix' | 'diagnosed' | 'approved' | 'escalated';

type RemediationResult =
  | { outcome: 'resolved'; state: HealingState }
  | { outcome: 'failed'; state: HealingState }
  | { outcome: 'awaiting_approval'; state: HealingState };

export type {
  Attempt,
  Candidate,
  Diagnosis,
  Difference,
  Evidence,
  HealingState,
  SearchGate,
} from './healing-types.ts';
export { diagnosisSchema } from './healing-types.ts';

export class HealingService {
  private readonly evidence: EvidenceJudge;

  constructor(private readonly d: HealingDeps) {
    this.evidence = new EvidenceJudge(d);
  }

  /** See EvidenceJudge.judgeWith. */
  judgeWith(...args: Parameters<EvidenceJudge['judgeWith']>) {
    return this.evidence.judgeWith(...args);
  }

  /** What the gate would do for an alert's text (and logs): see EvidenceJudge.explain. */
  explain(...args: Parameters<EvidenceJudge['explain']>) {
    return this.evidence.explain(...args);
  }

  private riskOf(action: string, parameters: Record<string, unknown>) {
    return this.evidence.riskOf(action, parameters);
  }

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
    // The collectors start at once; the nominated fixes' probes start as soon
    // as the search has named them, while the collectors still run.
    // An incident that resolved itself is not probed: nothing runs for it, not even a read.
    const collecting = open ? (state.evidence ?? this.collect(state.incidentId)) : undefined;
    const matches = await this.d.memory.similar(recallText(incident), {
      topK: 3,
      service: incident.service,
    });
    const nominated = matches.filter((m) => m.autoApply && m.incident.fix);
    const [gathered, probes] = await Promise.all([
      collecting,
      collecting ? this.probesFor(incident, nominated, state.evidence) : [],
    ]);
    if (!gathered) return { known: false, state: { ...state, candidates: [] } };
    const { candidates, differences, judged } = await this.evidence.judgeWith(
      incident.service,
      incidentText(incident),
      nominated,
      [...gathered, ...probes],
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

  /** The nominated fixes' probes, less those the collectors run (or ran) anyway. */
  private probesFor(incident: Incident, nominated: SimilarIncident[], gathered?: Evidence[]) {
    const key = (action: string, parameters?: Record<string, unknown>) =>
      `${action} ${JSON.stringify(parameters ?? {})}`;
    const known = new Set(
      gathered
        ? gathered.map((e) => key(e.action, e.parameters))
        : this.d.settings.evidenceActions.map((a) => key(a)),
    );
    return this.evidence.runProbes(
      String(incident.id),
      nominated
        .flatMap((m) => m.incident.probes)
        .filter((p) => !known.has(key(p.action, p.parameters))),
    );
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

  /** Runs the configured read actions and records what they say. */
  private async collect(incidentId: number): Promise<Evidence[]> {
    await this.moveTo(incidentId, 'investigating', 'gathering evidence');
    // Read actions, independent of each other: all at once, kept in order.
    const evidence = await Promise.all(
      this.d.settings.evidenceActions.map((action) =>
        this.evidence.runRead(String(incidentId), action, {}),
      ),
    );
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

  /** Asks the reasoning model for a diagnosis and one catalogue action. Never guesses without it. */
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
      const model = this.d.llm.modelFor('reasoning');
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
      this.d.onOutcome?.({
        outcome:
          fix.source === 'memory'
            ? 'known_fix'
            : fix.source === 'approved'
              ? 'approved'
              : 'diagnosed',
        seconds: (Date.now() - incident.openedAt.getTime()) / 1000,
      });
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
      this.d.onOutcome?.({
        outcome: 'escalated',
        seconds: (Date.now() - incident.openedAt.getTime()) / 1000,
      });
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
