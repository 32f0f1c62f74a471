// Flow-control nodes: if, switch, merge, no-op. None has side effects.
import type { Item } from '../engine/expressions.ts';
import type { NodeType } from '../engine/node-types.ts';

export const ifNode: NodeType = {
  type: 'if',
  displayName: 'If',
  description: 'Routes each item to output 0 when the condition is true, else to output 1.',
  group: 'flow',
  inputs: 1,
  outputs: 2,
  sideEffects: false,
  instant: true,
  parameters: [
    {
      name: 'condition',
      type: 'boolean',
      required: true,
      perItem: true,
      description: 'Expression evaluated per item, e.g. "={{ $json.status >= 500 }}".',
    },
  ],
  async run(ctx) {
    const yes: Item[] = [];
    const no: Item[] = [];
    for (let i = 0; i < ctx.items.length; i++)
      ((await ctx.param('condition', i)) ? yes : no).push(ctx.items[i]!);
    return { outputs: [yes.length ? yes : null, no.length ? no : null] };
  },
};

const caseCount = (p: Record<string, unknown>) => (Array.isArray(p.cases) ? p.cases.length : 0);

export const switchNode: NodeType = {
  type: 'switch',
  displayName: 'Switch',
  description:
    'Routes each item to the output of the first case equal to its value; unmatched items go to the last output.',
  group: 'flow',
  inputs: 1,
  outputs: (p) => caseCount(p) + 1,
  sideEffects: false,
  instant: true,
  check: (p) =>
    p.cases === undefined || Array.isArray(p.cases)
      ? []
      : [{ field: 'parameters.cases', message: 'must be a literal array' }],
  parameters: [
    {
      name: 'value',
      type: 'json',
      required: true,
      perItem: true,
      description: 'Expression evaluated per item.',
    },
    {
      name: 'cases',
      type: 'json',
      required: true,
      description: 'Literal array of values; case i goes to output i.',
    },
  ],
  async run(ctx) {
    const cases = ctx.node.parameters.cases as unknown[];
    const outs: Item[][] = Array.from({ length: cases.length + 1 }, () => []);
    for (let i = 0; i < ctx.items.length; i++) {
      const v = JSON.stringify(await ctx.param('value', i));
      const k = cases.findIndex((c) => JSON.stringify(c) === v);
      outs[k < 0 ? cases.length : k]!.push(ctx.items[i]!);
    }
    return { outputs: outs.map((o) => (o.length ? o : null)) };
  },
};

export const mergeNode: NodeType = {
  type: 'merge',
  displayName: 'Merge',
  description:
    'Joins two inputs: append (items of input 0 then input 1) or combineByPosition (item i of each, merged).',
  group: 'flow',
  inputs: 2,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [
    {
      name: 'mode',
      type: 'options',
      options: ['append', 'combineByPosition'],
      default: 'append',
      description: 'How to join.',
    },
  ],
  async run(ctx) {
    const [a = [], b = []] = ctx.inputs;
    if ((ctx.node.parameters.mode ?? 'append') === 'append') return { outputs: [[...a, ...b]] };
    const n = Math.max(a.length, b.length);
    return { outputs: [Array.from({ length: n }, (_, i) => ({ ...a[i], ...b[i] }))] };
  },
};

export const noOpNode: NodeType = {
  type: 'noOp',
  displayName: 'No operation',
  description: 'Passes its items on unchanged.',
  group: 'flow',
  inputs: 1,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [],
  async run(ctx) {
    return { outputs: [ctx.items] };
  },
};
