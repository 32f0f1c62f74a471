// The shapes that flow through the auto-heal workflow: the pipeline's state,
// its candidate fixes and the evidence gathered. Shared by the service, the
// evidence judge and the workflow nodes.
import { z } from 'zod';

import type { Risk } from '../exec/executor.ts';
import type { GateInput, GateOutcome } from './decide.ts';
import type { EvidenceVerdict } from './evidence-check.ts';

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
  /** It exited 0. */
  ok: boolean;
  /**
   * Its process ran and this is what it said, whatever its exit code: a
   * status command exits non-zero exactly when something is down.
   */
  ran?: boolean;
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
