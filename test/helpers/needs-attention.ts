// An execution brought to needs_attention the way a crash does: a worker
// claimed it, started a side-effecting node, wrote that step and died
// before finishing; its lease runs out and the engine's own recovery
// (the sweep, with workers running) finds a side effect it cannot verify.
import type { Services } from '../../src/app.ts';
import type { Execution } from '../../src/engine/execution-store.ts';

/**
 * Runs the workflow as a worker that dies inside `node` (a side-effecting
 * node of `doc`) and waits until the engine stops it. Needs a running
 * worker and sweeper on `services.engine`.
 */
export async function interruptedExecution(
  services: Pick<Services, 'db' | 'engine'>,
  doc: unknown,
  node: string,
): Promise<Execution> {
  const { db, engine } = services;
  const wf = await engine.createWorkflow(doc);
  const def = await engine.workflows.version(wf.id, wf.currentVersion);
  const id = await engine.executions.create({
    workflowId: wf.id,
    workflowVersion: wf.currentVersion,
    mode: 'manual',
    triggerNode: def.nodes[0]!.name,
    triggerItems: [{}],
    timeoutMs: 0,
  });
  await engine.executions.claim(id, 'dead-worker', 60_000);
  const now = new Date().toISOString();
  await engine.executions.writeSteps(id, 'dead-worker', [
    {
      node_name: node,
      seq: 1,
      status: 'started',
      attempts: 1,
      input: null,
      output: null,
      truncated: false,
      error: null,
      worker: 'dead-worker',
      started_at: now,
      finished_at: null,
      duration_ms: null,
    },
  ]);
  // The worker dies: its lease is over and nobody re-enqueued it yet.
  await db.query(
    `UPDATE executions SET lease_expires_at = now() - interval '1 second',
       enqueued_at = now() - interval '1 hour' WHERE id = $1`,
    [id],
  );
  return engine.waitForStatus(id);
}
