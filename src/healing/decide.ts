// The safety gate of auto-healing as one pure function: given what is known
// about a candidate fix (where it came from, its risk, whether its evidence
// holds, what the validator model said), what happens next. The service
// around it only gathers these inputs and carries the outcome out, so every
// rule is visible here and tested as a table (decide.test.ts).
import type { Risk } from '../exec/executor.ts';
import type { EvidenceStatus } from './evidence-check.ts';

export type GateInput = {
  source: 'memory' | 'model' | 'approved';
  /** The catalogue's risk, or the model's claim when higher; 'invalid' when the action did not render. */
  risk: Risk | 'invalid';
  /** Why the action did not render, when invalid. */
  invalidReason?: string;
  /** For a remembered fix: whether its evidence holds for this incident. */
  evidence?: EvidenceStatus;
  /** One line on what differs, for the reason. */
  difference?: string;
  /** The validator's answer; undefined while it has not been asked. */
  validator?: 'AGREED' | 'PARTIAL' | 'DISAGREED' | 'unavailable';
  /** Who approved, for source 'approved'. */
  approvedBy?: string;
};

export type GateOutcome =
  /** Run it now. */
  | 'run'
  /** Ask the validator model, then decide again with its answer. */
  | 'ask_validator'
  /** A person approves or rejects it. */
  | 'ask_person'
  /** Do not run it; the candidate goes to diagnosis with what differs. */
  | 'diagnose'
  /** Never run it. */
  | 'refuse';

export type GateDecision = { outcome: GateOutcome; reason: string };

export function decide(i: GateInput): GateDecision {
  if (i.risk === 'invalid')
    return {
      outcome: 'refuse',
      reason: `not a valid catalogue action: ${i.invalidReason ?? 'unknown'}`,
    };
  if (i.source === 'approved') return { outcome: 'run', reason: `approved by ${i.approvedBy}` };
  if (i.source === 'memory') return decideRemembered(i, i.risk);
  if (i.risk === 'dangerous')
    return { outcome: 'ask_person', reason: 'a dangerous action: a person must approve it' };
  if (i.risk === 'read') return { outcome: 'run', reason: 'read-only action' };
  switch (i.validator) {
    case undefined:
      return { outcome: 'ask_validator', reason: 'a change proposed by the model' };
    case 'AGREED':
      return { outcome: 'run', reason: 'the validator model agreed' };
    case 'unavailable':
      return { outcome: 'refuse', reason: 'no second opinion for a change' };
    default:
      return {
        outcome: 'ask_person',
        reason: `the validator model answered ${i.validator}`,
      };
  }
}

/** Resemblance nominated it; the evidence decides. */
function decideRemembered(i: GateInput, risk: Risk): GateDecision {
  const differs = i.difference ? `: ${i.difference}` : '';
  switch (i.evidence) {
    case 'contradicted':
      return { outcome: 'diagnose', reason: `similar past incident; evidence differs${differs}` };
    case 'unconfirmed':
      return {
        outcome: 'diagnose',
        reason: `similar past incident; its evidence was not seen${differs}`,
      };
    case undefined:
      return { outcome: 'diagnose', reason: 'similar past incident; its evidence was not checked' };
    default:
  }
  // A person decides a dangerous fix however sure the evidence is.
  if (risk === 'dangerous')
    return {
      outcome: 'ask_person',
      reason: `known fix (evidence ${i.evidence}), but dangerous: a person must approve it`,
    };
  if (risk === 'read') return { outcome: 'run', reason: 'known fix, read-only' };
  if (i.evidence === 'confirmed')
    return {
      outcome: 'run',
      reason: 'known fix, its evidence confirmed and nothing contradicts it',
    };
  // Partial or unrecorded evidence: a change needs a second opinion.
  switch (i.validator) {
    case undefined:
      return {
        outcome: 'ask_validator',
        reason: `known fix with ${i.evidence} evidence${differs}: the validator must agree`,
      };
    case 'AGREED':
      return {
        outcome: 'run',
        reason: `known fix with ${i.evidence} evidence; the validator model agreed`,
      };
    default:
      return {
        outcome: 'diagnose',
        reason: `similar past incident with ${i.evidence} evidence; the validator ${i.validator === 'unavailable' ? 'could not be asked' : `answered ${i.validator}`}${differs}`,
      };
  }
}
