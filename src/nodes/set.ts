// Set: adds or replaces fields on each item; values may be expressions.
import type { Item } from '../engine/expressions.ts';
import type { NodeType } from '../engine/node-types.ts';

export const setNode: NodeType = {
  type: 'set',
  displayName: 'Set',
  description:
    'Sets fields on each item (values may be expressions); keepOnlySet drops the other fields.',
  group: 'action',
  inputs: 1,
  outputs: 1,
  sideEffects: false,
  instant: true,
  parameters: [
    {
      name: 'values',
      type: 'json',
      required: true,
      perItem: true,
      description: 'Object of field name to value, e.g. {"ok": true, "name": "={{ body.name }}"}.',
    },
    {
      name: 'keepOnlySet',
      type: 'boolean',
      default: false,
      description: 'Output only the set fields.',
    },
  ],
  async run(ctx) {
    const keepOnly = ctx.node.parameters.keepOnlySet === true;
    const out: Item[] = [];
    for (let i = 0; i < ctx.items.length; i++) {
      const values = await ctx.param<Record<string, unknown>>('values', i);
      if (!values || typeof values !== 'object' || Array.isArray(values))
        throw new Error('values must evaluate to an object');
      out.push(keepOnly ? { ...values } : { ...ctx.items[i], ...values });
    }
    return { outputs: [out] };
  },
};
