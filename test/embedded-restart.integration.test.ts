// An embedded process that starts picks up executions a previous process
// left queued: its in-process queue is empty, so the database is the list.
import { expect, it } from 'vitest';

import { makeTestServices } from './helpers/services.ts';

it('runs executions left queued by a previous process as soon as it starts', async () => {
  const s = await makeTestServices('postgres');
  try {
    const wf = await s.engine.createWorkflow({
      name: 'left behind',
      nodes: [
        { id: '1', name: 'Start', type: 'manual', parameters: {} },
        { id: '2', name: 'Set', type: 'set', parameters: { values: { ran: true } } },
      ],
      connections: { Start: { main: [[{ node: 'Set', index: 0 }]] } },
    });
    // A row committed by a process that stopped before its in-process queue ran it.
    const id = await s.engine.executions.create({
      workflowId: wf.id,
      workflowVersion: 1,
      mode: 'manual',
      triggerNode: 'Start',
      triggerItems: [{}],
      timeoutMs: 0,
    });
    await s.engine.startWorker(2);
    s.engine.startSweeper();
    const ex = await s.engine.waitForStatus(id, undefined, 20_000);
    expect(ex).toMatchObject({ status: 'succeeded', result: [{ ran: true }] });
  } finally {
    await s.dispose();
  }
});
