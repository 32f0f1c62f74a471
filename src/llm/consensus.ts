// Consensus: a second model (the validator role) judges the first model's
// diagnosis and proposed action on its own, and answers AGREED, PARTIAL or
// DISAGREED with reasons, as structured output. The safety gate lets a
// `change` action run on AGREED only; PARTIAL and DISAGREED go to a human.
import { z } from 'zod';

import type { ModelRole } from './model-roles.ts';
import type { LlmProvider } from './provider.ts';
import { chatStructured } from './structured-output.ts';

export const verdictSchema = z.object({
  verdict: z.enum(['AGREED', 'PARTIAL', 'DISAGREED']),
  reasons: z.array(z.string().min(1)).min(1).max(8),
  /** What the validator would do instead, when it does not agree. */
  alternative: z.string().optional(),
});

export type Verdict = z.infer<typeof verdictSchema>;

export type Proposal = {
  /** What is wrong: the alert, symptoms, evidence the first model saw. */
  incident: string;
  diagnosis: string;
  /** The catalogue action and its parameters. */
  action: { name: string; parameters: Record<string, unknown>; risk?: string };
};

export type ConsensusResult = Verdict & {
  model: string;
  /** Repair rounds structured output needed. */
  repairs: number;
  /** True only on AGREED. */
  approved: boolean;
};

export type ConsensusOptions = {
  llm: LlmProvider & { modelFor?(role: ModelRole): string };
  /** The validator model. @default the gateway's validator role */
  model?: string;
  signal?: AbortSignal;
};

const system = `You are a cautious senior site reliability engineer reviewing another engineer's work.
You get an incident, their diagnosis and the one action they propose.
Judge independently whether the diagnosis follows from the evidence and whether the action is safe and fixes it.
Answer AGREED only if both are right; PARTIAL if the diagnosis is plausible but the action is wrong, risky or incomplete; DISAGREED otherwise.
Give short, concrete reasons. Reply with JSON only.`;

export async function checkConsensus(
  proposal: Proposal,
  options: ConsensusOptions,
): Promise<ConsensusResult> {
  const model = options.model ?? options.llm.modelFor?.('validator');
  if (!model) throw new Error('checkConsensus needs a model or a gateway with a validator role');
  const { value, repairs } = await chatStructured({
    llm: options.llm,
    model,
    schema: verdictSchema,
    signal: options.signal,
    messages: [
      { role: 'system', content: system },
      {
        role: 'user',
        content: `Incident:\n${proposal.incident}\n\nDiagnosis:\n${proposal.diagnosis}\n\nProposed action:\n${JSON.stringify(proposal.action, null, 2)}`,
      },
    ],
  });
  return { ...value, model, repairs, approved: value.verdict === 'AGREED' };
}
