// Telling people about an execution that stopped as needs_attention: a
// side-effecting step was interrupted and whether it took effect is unknown.
// A notification goes out on every channel (once per execution), and when
// the execution was healing an incident, the incident's timeline says so.
import type { Execution, ExecutionError } from '../engine/execution-store.ts';
import type { NotificationService } from '../notify/notification-service.ts';
import type { IncidentService } from './incident-service.ts';

/** The incident a healing execution works on, read from its trigger item. */
export function incidentOf(ex: Pick<Execution, 'triggerData'>): number | undefined {
  const first: unknown = ex.triggerData[0];
  if (!first || typeof first !== 'object') return undefined;
  const id = (first as { incidentId?: unknown }).incidentId;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : undefined;
}

export async function reportNeedsAttention(
  d: { incidents: IncidentService; notifications: NotificationService },
  ex: Execution,
  error: ExecutionError,
): Promise<void> {
  const incidentId = incidentOf(ex);
  if (incidentId !== undefined)
    await d.incidents
      .addEvent(incidentId, {
        type: 'execution.needs_attention',
        message: `execution ${ex.id} needs attention: ${error.message}`,
        evidence: { executionId: ex.id, node: error.node ?? null, code: error.code },
      })
      .catch(() => undefined);
  await d.notifications.notify({
    kind: 'escalated',
    title: `Needs attention: execution ${ex.id} of workflow ${ex.workflowId}`,
    text: [
      error.message,
      ...(error.node ? [`Node: ${error.node}`] : []),
      'Check whether the step took effect, then mark the execution as done or retry it.',
    ].join('\n'),
    dedupKey: `execution:${ex.id}:needs_attention`,
    ...(incidentId !== undefined ? { incidentId } : {}),
  });
}
