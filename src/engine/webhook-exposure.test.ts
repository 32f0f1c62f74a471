import { describe, expect, it } from 'vitest';

import { webhookExposures, webhookWarnings } from './webhook-exposure.ts';
import type { WorkflowDefinition } from './workflow-model.ts';

const def = (nodes: WorkflowDefinition['nodes']): WorkflowDefinition => ({
  name: 'w',
  nodes,
  connections: {},
  settings: {},
});

describe('webhook exposure', () => {
  it.each([
    [{}, 'none', 1],
    [{ auth: 'none' }, 'none', 1],
    [{ auth: 'headerToken' }, 'headerToken', 0],
    [{ auth: 'hmac' }, 'hmac', 0],
    [{ auth: 'bogus' }, 'none', 1],
  ])('parameters %j read as auth %s with %i warning(s)', (extra, auth, warnings) => {
    const d = def([
      {
        id: '1',
        name: 'Hook',
        type: 'webhook',
        parameters: { path: 'p', method: 'get', ...extra },
      },
      { id: '2', name: 'Set', type: 'set', parameters: {} },
    ]);
    expect(webhookExposures(d)).toEqual([{ node: 'Hook', method: 'GET', path: 'p', auth }]);
    expect(webhookWarnings(d)).toHaveLength(warnings);
  });

  it('a workflow without webhooks has nothing to warn about', () => {
    expect(
      webhookWarnings(def([{ id: '1', name: 'Start', type: 'manual', parameters: {} }])),
    ).toEqual([]);
  });
});
