// The shipped auto-heal workflow, and the wiring that starts it: every
// opened incident, and every decided approval, starts an execution of each
// active workflow that has an Incident trigger. Installed once (by name) and
// then the operator's to edit like any other workflow.
import type { ApprovalService } from '../approvals/approval-service.ts';
import type { Engine } from '../engine/engine.ts';
import type { Item } from '../engine/expressions.ts';
import type { WorkflowDefinition } from '../engine/workflow-model.ts';
import type { Logger } from '../log.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { Incident } from '../incidents/incident-store.ts';
import type { HealingState } from './healing-service.ts';

export const autoHealName = 'Auto-heal incidents';
const triggerType = 'warden.incidentTrigger';

const to = (node: string) => [{ node }];

export const autoHealWorkflow: WorkflowDefinition = {
  name: autoHealName,
  settings: { timeoutMs: 15 * 60_000 },
  nodes: [
    { id: 'trigger', name: 'Incident', type: triggerType, parameters: {}, position: [0, 200] },
    {
      id: 'recall',
      name: 'Recall similar incidents',
      type: 'warden.recall',
      parameters: {},
      position: [250, 100],
    },
    {
      id: 'known',
      name: 'Apply known fix',
      type: 'warden.remediate',
      parameters: {},
      position: [500, 0],
    },
    {
      id: 'evidence',
      name: 'Gather evidence',
      type: 'warden.gatherEvidence',
      parameters: {},
      position: [500, 200],
    },
    {
      id: 'diagnose',
      name: 'Diagnose',
      type: 'warden.diagnose',
      parameters: {},
      position: [750, 200],
    },
    {
      id: 'proposed',
      name: 'Apply proposed fix',
      type: 'warden.remediate',
      parameters: {},
      position: [1000, 200],
    },
    {
      id: 'decision',
      name: 'Apply approval decision',
      type: 'warden.applyDecision',
      parameters: {},
      position: [250, 400],
    },
    {
      id: 'approved',
      name: 'Apply approved fix',
      type: 'warden.remediate',
      parameters: {},
      position: [500, 400],
    },
    {
      id: 'learn',
      name: 'Learn and resolve',
      type: 'warden.learn',
      parameters: {},
      position: [1250, 100],
    },
    {
      id: 'escalate',
      name: 'Escalate',
      type: 'warden.escalate',
      parameters: {},
      position: [1250, 300],
    },
  ],
  connections: {
    Incident: { main: [to('Recall similar incidents'), to('Apply approval decision')] },
    'Recall similar incidents': { main: [to('Apply known fix'), to('Gather evidence')] },
    // A known fix that fails verification hands over to the model, once.
    'Apply known fix': { main: [to('Learn and resolve'), to('Gather evidence'), []] },
    'Gather evidence': { main: [to('Diagnose')] },
    Diagnose: { main: [to('Apply proposed fix'), to('Escalate')] },
    'Apply proposed fix': { main: [to('Learn and resolve'), to('Escalate'), []] },
    'Apply approval decision': { main: [to('Apply approved fix'), to('Escalate')] },
    'Apply approved fix': { main: [to('Learn and resolve'), to('Escalate'), []] },
  },
};

/** Installs and activates the auto-heal workflow unless a workflow of that name exists. */
export async function installAutoHeal(engine: Engine): Promise<number> {
  const existing = (await engine.workflows.list()).find((w) => w.name === autoHealName);
  if (existing) return existing.id;
  const wf = await engine.createWorkflow(autoHealWorkflow);
  await engine.setActive(wf.id, true);
  return wf.id;
}

/** Starts every active Incident-triggered workflow with the item. */
export async function startHealing(engine: Engine, item: HealingState): Promise<string[]> {
  const started: string[] = [];
  for (const summary of await engine.workflows.list()) {
    if (!summary.active || summary.activeVersion === null) continue;
    const def = await engine.workflows.version(summary.id, summary.activeVersion);
    const trigger = def.nodes.find((n) => n.type === triggerType);
    if (!trigger) continue;
    started.push(
      await engine.start({
        workflowId: summary.id,
        version: summary.activeVersion,
        mode: item.kind,
        triggerNode: trigger.name,
        items: [item as unknown as Item],
      }),
    );
  }
  return started;
}

/** Opened incidents and decided approvals start the healing workflows. */
export function wireAutoHeal(deps: {
  engine: Engine;
  incidents: IncidentService;
  approvals: ApprovalService;
  logger: Logger;
  /** Storm grouping and pause: decides whether an opened incident heals. */
  storm?: { admit(incident: Incident): Promise<{ admit: boolean }> };
}): void {
  const { engine, logger } = deps;
  const start = (item: HealingState) =>
    startHealing(engine, item).catch((err: unknown) =>
      logger.error({ err, incidentId: item.incidentId }, 'could not start the auto-heal workflow'),
    );
  // Only an opened incident leads to remediation: resolved and flapping never do.
  deps.incidents.subscribe(async (notice) => {
    if (
      notice.type === 'incident.opened' &&
      (!deps.storm || (await deps.storm.admit(notice.incident)).admit)
    )
      await start({ kind: 'incident', incidentId: notice.incident.id });
  });
  deps.approvals.onDecision(async (a) => {
    await start({ kind: 'approval', incidentId: a.incidentId, approvalId: a.id });
  });
}
