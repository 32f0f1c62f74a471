import { describe, expect, it } from 'vitest';

import { builtinNodes } from '../nodes/index.ts';
import type { Problem } from './workflow-model.ts';
import { pinDataMaxBytes, validateWorkflow, WorkflowInvalidError } from './workflow-model.ts';

const registry = builtinNodes();

const base = () => ({
  name: 'wf',
  nodes: [
    { id: '1', name: 'Start', type: 'manual', parameters: {} },
    { id: '2', name: 'Call', type: 'httpRequest', parameters: { url: 'http://127.0.0.1:1/x' } },
    {
      id: '3',
      name: 'Check',
      type: 'if',
      parameters: { condition: '={{ $json.statusCode = 200 }}' },
    },
  ],
  connections: {
    Start: { main: [[{ node: 'Call', index: 0 }]] },
    Call: { main: [[{ node: 'Check', index: 0 }]] },
  },
  settings: {},
});

function problems(doc: unknown): Problem[] {
  try {
    validateWorkflow(doc, registry);
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowInvalidError);
    return (err as WorkflowInvalidError).problems;
  }
  throw new Error('expected the workflow to be invalid');
}

describe('validateWorkflow', () => {
  it('accepts a valid workflow and fills in defaults', () => {
    const def = validateWorkflow(base(), registry);
    expect(def.nodes.map((n) => n.onError)).toEqual(['stop', 'stop', 'stop']);
    expect(def.connections.Start!.main![0]![0]).toEqual({ node: 'Call', type: 'main', index: 0 });
  });

  it('names the node and field of an unknown type', () => {
    const doc = base();
    doc.nodes[1]!.type = 'nope';
    expect(problems(doc)).toContainEqual({
      node: 'Call',
      field: 'type',
      message: 'unknown node type "nope"',
    });
  });

  it('names the node and field of a dangling connection', () => {
    const doc = base();
    doc.connections.Call.main[0]!.push({ node: 'Ghost', index: 0 });
    expect(problems(doc)).toContainEqual({
      node: 'Call',
      field: 'connections.Call.main[0][1]',
      message: 'dangling connection to unknown node "Ghost"',
    });
  });

  it('rejects a cycle and shows it', () => {
    const doc = base() as ReturnType<typeof base> & { connections: Record<string, unknown> };
    doc.connections.Check = { main: [[{ node: 'Call', index: 0 }]] };
    const [p] = problems(doc);
    expect(p!.field).toBe('connections');
    expect(p!.message).toBe('cycle: Call -> Check -> Call');
  });

  it('names a missing required parameter', () => {
    const doc = base();
    doc.nodes[1]!.parameters = {} as never;
    expect(problems(doc)).toContainEqual({
      node: 'Call',
      field: 'parameters.url',
      message: 'is required',
    });
  });

  it('names the parameter of an expression that does not compile', () => {
    const doc = base();
    doc.nodes[2]!.parameters = { condition: '={{ $json.( }}' };
    const p = problems(doc);
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ node: 'Check', field: 'parameters.condition' });
    expect(p[0]!.message).toMatch(/^expression error/);
  });

  it('rejects wrong parameter types, unknown parameters and a missing trigger', () => {
    const doc = base();
    doc.nodes[1]!.parameters = { url: 'http://x', timeoutMs: 'soon', colour: 1 } as never;
    const p = problems(doc);
    expect(p).toContainEqual({
      node: 'Call',
      field: 'parameters.timeoutMs',
      message: 'must be a number; got "soon"',
    });
    expect(p).toContainEqual({
      node: 'Call',
      field: 'parameters.colour',
      message: 'is not a parameter of httpRequest',
    });
    const noTrigger = base();
    noTrigger.nodes = noTrigger.nodes.slice(1);
    noTrigger.connections = { Call: noTrigger.connections.Call } as never;
    expect(problems(noTrigger)).toContainEqual({
      field: 'nodes',
      message: 'needs at least one trigger node',
    });
  });

  it('refuses an error connection unless the node follows an error branch', () => {
    const doc = base() as ReturnType<typeof base> & { connections: Record<string, unknown> };
    doc.connections.Call = { main: [[]], error: [[{ node: 'Check', index: 0 }]] } as never;
    expect(problems(doc)).toContainEqual({
      node: 'Call',
      field: 'connections.Call.error',
      message: 'needs onError "errorBranch"',
    });
  });

  it('checks node-specific parameters: cron expressions and webhook paths', () => {
    const doc = {
      name: 'triggers',
      nodes: [
        { name: 'Cron', type: 'schedule', parameters: { cron: 'every day' } },
        { name: 'Hook', type: 'webhook', parameters: { path: '../etc' } },
      ],
      connections: {},
    };
    const p = problems(doc);
    expect(p).toContainEqual(expect.objectContaining({ node: 'Cron', field: 'parameters.cron' }));
    expect(p).toContainEqual(expect.objectContaining({ node: 'Hook', field: 'parameters.path' }));
  });

  it('keeps pinned data by node name, drops an empty one, and caps its size', () => {
    const pinned = validateWorkflow(
      { ...base(), pinData: { Call: [{ statusCode: 200 }] } },
      registry,
    );
    expect(pinned.pinData).toEqual({ Call: [{ statusCode: 200 }] });
    expect('pinData' in validateWorkflow({ ...base(), pinData: {} }, registry)).toBe(false);
    const big = [{ blob: 'x'.repeat(pinDataMaxBytes) }];
    expect(problems({ ...base(), pinData: { Call: big } })).toEqual([
      expect.objectContaining({ field: 'pinData', message: expect.stringMatching(/at most/) }),
    ]);
    expect(problems({ ...base(), pinData: [] })).toEqual([
      expect.objectContaining({
        field: 'pinData',
        message: 'must be an object keyed by node name',
      }),
    ]);
  });
});
