// Node types of the auto-heal workflow: each wraps one HealingService step
// and routes the state to an output. They can be rearranged in the workflow
// like any other node; the safety decisions stay inside the service.
import type { Item } from '../engine/expressions.ts';
import type { NodeContext, NodeResult, NodeType, VerifyResult } from '../engine/node-types.ts';
import type { HealingService, HealingState } from './healing-service.ts';

const state = (ctx: NodeContext): HealingState[] => ctx.items as unknown as HealingState[];
const item = (s: HealingState) => s as unknown as Item;

/** Sends each item to output `route(item)`; outputs with nothing get null. */
async function routeEach(
  ctx: NodeContext,
  outputs: number,
  step: (s: HealingState) => Promise<{ output: number; state: HealingState }>,
): Promise<NodeResult> {
  const out: Item[][] = Array.from({ length: outputs }, () => []);
  for (const s of state(ctx)) {
    const r = await step(s);
    out[r.output]!.push(item(r.state));
  }
  return { outputs: out.map((o) => (o.length ? o : null)) };
}

export function healingNodes(healing: HealingService): NodeType[] {
  const base = { inputs: 1, parameters: [] } as const;
  return [
    {
      type: 'warden.incidentTrigger',
      displayName: 'Incident',
      description:
        'Starts the workflow when an incident opens ({kind: "incident", incidentId}) or an approval is decided ({kind: "approval", incidentId, approvalId}).',
      group: 'trigger',
      inputs: 0,
      outputs: 2,
      parameters: [],
      sideEffects: false,
      async run(ctx) {
        const items = ctx.execution.triggerItems as unknown as HealingState[];
        const pick = (k: HealingState['kind']) => items.filter((i) => i.kind === k).map(item);
        const incidents = pick('incident');
        const approvals = pick('approval');
        return {
          outputs: [incidents.length ? incidents : null, approvals.length ? approvals : null],
        };
      },
    },
    {
      ...base,
      type: 'warden.recall',
      displayName: 'Recall similar incidents',
      description:
        'Gathers evidence and searches incident memory; output 0: a known fix whose evidence holds (or needs only the validator or a person); output 1: none, or the evidence differs.',
      group: 'action',
      outputs: 2,
      sideEffects: false,
      run: (ctx) =>
        routeEach(ctx, 2, async (s) => {
          const r = await healing.recall(s);
          return { output: r.known ? 0 : 1, state: r.state };
        }),
    },
    {
      ...base,
      type: 'warden.gatherEvidence',
      displayName: 'Gather evidence',
      description:
        'Runs the configured read actions and attaches their output to the incident, unless recall gathered it already.',
      group: 'action',
      outputs: 1,
      sideEffects: false,
      run: (ctx) =>
        routeEach(ctx, 1, async (s) => ({ output: 0, state: await healing.gatherEvidence(s) })),
    },
    {
      ...base,
      type: 'warden.diagnose',
      displayName: 'Diagnose',
      description:
        'Asks the orchestrator model for a diagnosis and one catalogue action; output 1 when no model answered.',
      group: 'action',
      outputs: 2,
      sideEffects: false,
      run: (ctx) =>
        routeEach(ctx, 2, async (s) => {
          const r = await healing.diagnose(s);
          return { output: r.ok ? 0 : 1, state: r.state };
        }),
    },
    {
      ...base,
      type: 'warden.remediate',
      displayName: 'Remediate',
      description:
        'Tries the candidate fixes through the safety gate, runs and verifies them. Outputs: 0 resolved, 1 failed, 2 waiting for approval.',
      group: 'action',
      outputs: 3,
      sideEffects: true,
      run: (ctx) =>
        routeEach(ctx, 3, async (s) => {
          const r = await healing.remediate(s);
          return {
            output: { resolved: 0, failed: 1, awaiting_approval: 2 }[r.outcome],
            state: r.state,
          };
        }),
      // After a crash mid-remediation, whether the action ran is not knowable
      // from here: a person looks (needs_attention) rather than running it twice.
      async verify(): Promise<VerifyResult> {
        return {
          status: 'unknown',
          detail: 'a remediation was interrupted; check the incident timeline',
        };
      },
    },
    {
      ...base,
      type: 'warden.applyDecision',
      displayName: 'Apply approval decision',
      description:
        'Output 0: approved, with the approved action as the only candidate; output 1: rejected or expired.',
      group: 'action',
      outputs: 2,
      sideEffects: false,
      run: (ctx) =>
        routeEach(ctx, 2, async (s) => {
          const r = await healing.applyDecision(s);
          return { output: r.approved ? 0 : 1, state: r.state };
        }),
    },
    {
      ...base,
      type: 'warden.learn',
      displayName: 'Learn and resolve',
      description:
        'Stores the verified fix in incident memory, resolves the incident and notifies.',
      group: 'action',
      outputs: 1,
      sideEffects: false,
      run: (ctx) => routeEach(ctx, 1, async (s) => ({ output: 0, state: await healing.learn(s) })),
    },
    {
      ...base,
      type: 'warden.escalate',
      displayName: 'Escalate',
      description: 'Hands the incident to a person with all evidence, and notifies.',
      group: 'action',
      outputs: 1,
      sideEffects: false,
      run: (ctx) =>
        routeEach(ctx, 1, async (s) => ({ output: 0, state: await healing.escalate(s) })),
    },
  ];
}
