// The editor's document model: what goes onto the canvas comes back out as
// the same JSON, names stay unique, the layout puts every node after its
// parents, and an import that is not a workflow says what is wrong.
import { describe, expect, it } from 'vitest';

import type { WorkflowDoc } from './model.ts';
import { renameInExpression, renameNode } from './rename.ts';
import type { NodeTypeInfo } from './model.ts';
import {
  diffWorkflows,
  isAutoHeal,
  layout,
  outputsOf,
  parseWorkflowJson,
  toDoc,
  toFlow,
  uniqueName,
} from './model.ts';

const doc: WorkflowDoc = {
  name: 'Branches',
  nodes: [
    { id: 'a', name: 'Hook', type: 'webhook', parameters: { path: 'x' }, position: [0, 0] },
    { id: 'b', name: 'If', type: 'if', parameters: { condition: '={{ true }}' }, position: [1, 2] },
    { id: 'c', name: 'No', type: 'noOp', parameters: {}, position: [5, 5], onError: 'continue' },
    {
      id: 'd',
      name: 'Fail',
      type: 'noOp',
      parameters: {},
      position: [9, 9],
      onError: 'errorBranch',
    },
  ],
  connections: {
    Hook: { main: [[{ node: 'If', type: 'main', index: 0 }]] },
    If: { main: [[], [{ node: 'No', index: 0 }]] },
    No: { main: [[{ node: 'Fail', index: 0 }]] },
    Fail: { error: [[{ node: 'No', index: 0 }]] },
  },
  settings: { timeoutMs: 5000 },
  description: 'kept as it came',
};

describe('editor model', () => {
  it('round-trips a document through the canvas unchanged', () => {
    const { nodes, edges } = toFlow(doc);
    expect(
      edges.map((e) => `${e.source}:${e.sourceHandle}->${e.target}:${e.targetHandle}`),
    ).toEqual(['a:out-0->b:in-0', 'b:out-1->c:in-0', 'c:out-0->d:in-0', 'd:error->c:in-0']);
    const extra = { description: doc.description };
    expect(toDoc({ name: doc.name, settings: doc.settings, extra }, nodes, edges)).toEqual(doc);
  });

  it('keeps empty output lists after the used ones, and empty connections, as the document had them', () => {
    const trailing: WorkflowDoc = {
      name: 't',
      nodes: [
        { id: 'a', name: 'A', type: 'manual', parameters: {} },
        { id: 'b', name: 'B', type: 'if', parameters: {} },
        { id: 'c', name: 'C', type: 'noOp', parameters: {} },
      ],
      connections: {
        A: { main: [[{ node: 'B', index: 0 }]] },
        B: { main: [[{ node: 'C', index: 0 }], []] },
        C: { main: [] },
      },
      settings: {},
    };
    const { nodes, edges } = toFlow(trailing);
    expect(toDoc({ name: 't', settings: {} }, nodes, edges)).toEqual(trailing);
  });

  it('keeps the empty output before a used one (If: only the false branch connected)', () => {
    const { nodes, edges } = toFlow(doc);
    const out = toDoc({ name: 'x', settings: {} }, nodes, edges);
    expect(out.connections.If).toEqual({ main: [[], [{ node: 'No', index: 0 }]] });
  });

  it('gives each new node a free name', () => {
    expect(uniqueName('Set', new Set())).toBe('Set');
    expect(uniqueName('Set', new Set(['Set', 'Set 1']))).toBe('Set 2');
  });

  it('lays out every node to the right of its parents, and survives a cycle', () => {
    const { nodes, edges } = toFlow(doc);
    const placed = new Map(layout(nodes, edges).map((n) => [n.id, n.position]));
    expect(placed.get('b')!.x).toBeGreaterThan(placed.get('a')!.x);
    expect(placed.get('c')!.x).toBeGreaterThan(placed.get('b')!.x);
    const cyclic = [
      ...edges,
      { id: 'z', source: 'c', target: 'a', sourceHandle: 'out-0', targetHandle: 'in-0' },
    ];
    expect(layout(nodes, cyclic)).toHaveLength(4);
  });

  it('refuses an import that is not a workflow, saying why', () => {
    expect(() => parseWorkflowJson('{')).toThrow(/not JSON/);
    expect(() => parseWorkflowJson('[]')).toThrow(/JSON object/);
    expect(() => parseWorkflowJson('{"nodes": 3}')).toThrow(/"nodes" must be an array/);
    expect(() => parseWorkflowJson('{"nodes": [{"name": "A"}]}')).toThrow(/nodes\[0\]/);
    expect(parseWorkflowJson('{"nodes": [{"name": "A", "type": "manual"}]}').nodes[0]).toEqual({
      name: 'A',
      type: 'manual',
      id: 'A',
      parameters: {},
    });
  });
});

describe('diffWorkflows', () => {
  it('names what changed between two versions, in words', () => {
    const next: WorkflowDoc = {
      ...doc,
      name: 'Branches 2',
      nodes: [
        { ...doc.nodes[0]!, position: [50, 50] },
        { ...doc.nodes[1]!, parameters: { condition: '={{ false }}' } },
        doc.nodes[2]!,
        { id: 'e', name: 'New', type: 'set', parameters: { values: {} } },
      ],
      connections: { ...doc.connections, No: { main: [[{ node: 'New', index: 0 }]] }, Fail: {} },
    };
    expect(diffWorkflows(doc, next)).toEqual([
      { kind: 'changed', what: 'name', detail: 'Branches → Branches 2' },
      { kind: 'changed', what: 'node Hook', detail: 'moved' },
      {
        kind: 'changed',
        what: 'node If',
        detail: 'condition: "={{ true }}" → "={{ false }}"',
      },
      { kind: 'added', what: 'node New', detail: 'set' },
      { kind: 'removed', what: 'node Fail', detail: 'noOp' },
      { kind: 'added', what: 'connection No output 0 -> New input 0' },
      { kind: 'removed', what: 'connection No output 0 -> Fail input 0' },
      { kind: 'removed', what: 'connection Fail error -> No input 0' },
    ]);
    expect(diffWorkflows(doc, doc)).toEqual([]);
  });
});

describe('outputsOf', () => {
  const info = (outputs: number | null): NodeTypeInfo => ({
    type: 't',
    displayName: 'T',
    description: '',
    group: 'flow',
    inputs: 1,
    outputs,
    parameters: [],
  });
  it('gives If its fixed two outputs and Switch one per case plus the fallback', () => {
    expect(outputsOf(info(2), {})).toBe(2);
    expect(outputsOf(info(null), { cases: ['a', 'b'] })).toBe(3);
    expect(outputsOf(info(null), { cases: '={{ [1] }}' })).toBe(1);
    expect(outputsOf(undefined, {})).toBe(1);
  });
});

describe('renaming a node', () => {
  it('rewrites every form of reference the engine reads, and nothing else', () => {
    const r = (s: string) => renameInExpression(s, 'Get status', 'Status check');
    expect(r('={{ $node."Get status".json.code }}')).toBe('={{ $node."Status check".json.code }}');
    expect(r("={{ $node.'Get status'.json }}")).toBe("={{ $node.'Status check'.json }}");
    expect(r('={{ $node.`Get status`.items }}')).toBe('={{ $node.`Status check`.items }}');
    expect(r('={{ $node["Get status"].json }}')).toBe('={{ $node["Status check"].json }}');
    expect(r('={{ $lookup($node, "Get status").json }}')).toBe(
      '={{ $lookup($node, "Status check").json }}',
    );
    // Another node whose name starts the same, and plain text, stay as they are.
    expect(r('={{ $node."Get status 2".json & "Get status" }}')).toBe(
      '={{ $node."Get status 2".json & "Get status" }}',
    );
    // A bare name keeps its form while it fits, and is quoted when it no longer does.
    expect(renameInExpression('=$node.Get.json & $node.Getter.json', 'Get', 'Fetch')).toBe(
      '=$node.Fetch.json & $node.Getter.json',
    );
    expect(renameInExpression('=$node.Get.json', 'Get', 'Get it')).toBe('=$node.`Get it`.json');
    expect(renameInExpression('=$node."a".json', 'a', 'say "hi"')).toBe(
      '=$node."say \\"hi\\"".json',
    );
  });

  it('updates references in every parameter of every node; connections and pins follow', () => {
    const renamed: WorkflowDoc = {
      name: 'refs',
      nodes: [
        { id: 'h', name: 'Hook', type: 'webhook', parameters: { path: 'x' }, position: [0, 0] },
        {
          id: 's',
          name: 'Lookup',
          type: 'set',
          parameters: { values: { a: '={{ $node."Hook".json.body }}', n: 3 } },
          position: [1, 0],
        },
        {
          id: 'r',
          name: 'Answer',
          type: 'respondToWebhook',
          parameters: {
            body: { nested: ['={{ $node["Hook"].json.body.name }}', 'Hook stays'] },
            headers: '={{ {"x": $node.Hook.json.method} }}',
          },
          position: [2, 0],
        },
      ],
      connections: {
        Hook: { main: [[{ node: 'Lookup', index: 0 }]] },
        Lookup: { main: [[{ node: 'Answer', index: 0 }]] },
      },
      settings: {},
      pinData: { Hook: [{ body: { name: 'pinned' } }] },
    };
    const { nodes, edges } = toFlow(renamed);
    const next = renameNode(nodes, 'h', 'Incoming call');
    const out = toDoc({ name: 'refs', settings: {} }, next, edges);
    expect(out.nodes.map((n) => n.name)).toEqual(['Incoming call', 'Lookup', 'Answer']);
    expect(out.nodes[1]!.parameters).toEqual({
      values: { a: '={{ $node."Incoming call".json.body }}', n: 3 },
    });
    expect(out.nodes[2]!.parameters).toEqual({
      body: { nested: ['={{ $node["Incoming call"].json.body.name }}', 'Hook stays'] },
      headers: '={{ {"x": $node.`Incoming call`.json.method} }}',
    });
    expect(out.connections).toEqual({
      'Incoming call': { main: [[{ node: 'Lookup', index: 0 }]] },
      Lookup: { main: [[{ node: 'Answer', index: 0 }]] },
    });
    expect(out.pinData).toEqual({ 'Incoming call': [{ body: { name: 'pinned' } }] });
    // The node nothing changed in is the same object (the canvas keeps it as it is).
    const untouched = renameNode(nodes, 's', 'Lookup 2');
    expect(untouched[0]).toBe(nodes[0]);
  });
});

describe('positions, pins and the auto-heal check', () => {
  it('exports a node the document gave no position without one until it is moved', () => {
    const bare: WorkflowDoc = {
      name: 'no positions',
      nodes: [
        { id: 'm', name: 'Start', type: 'manual', parameters: {} },
        { id: 'n', name: 'Next', type: 'noOp', parameters: {} },
      ],
      connections: { Start: { main: [[{ node: 'Next', index: 0 }]] } },
      settings: {},
    };
    const { nodes, edges } = toFlow(bare);
    expect(toDoc({ name: bare.name, settings: {} }, nodes, edges)).toEqual(bare);
    const moved = nodes.map((n) => (n.id === 'n' ? { ...n, position: { x: 400, y: 90 } } : n));
    expect(toDoc({ name: bare.name, settings: {} }, moved, edges).nodes[1]!.position).toEqual([
      400, 90,
    ]);
  });

  it('is read-only for the healing steps, not for an Incident trigger alone', () => {
    expect(isAutoHeal({ nodes: [{ type: 'warden.incidentTrigger' }, { type: 'set' }] })).toBe(
      false,
    );
    expect(
      isAutoHeal({ nodes: [{ type: 'warden.incidentTrigger' }, { type: 'warden.remediate' }] }),
    ).toBe(true);
  });
});
