// Execute sub-workflow: runs another workflow (as a child execution with its
// own steps) and outputs its last node's items. Finding an existing child
// before creating one makes a re-run after a crash reuse it, so the node has
// no side effects of its own.
import type { NodeType } from '../engine/node-types.ts';
import type { Item } from '../engine/expressions.ts';

export const executeWorkflowNode: NodeType = {
  type: 'executeWorkflow',
  displayName: 'Execute workflow',
  description:
    "Runs another workflow with this node's items as its trigger items and outputs its result.",
  group: 'action',
  inputs: 1,
  outputs: 1,
  sideEffects: false,
  parameters: [
    {
      name: 'workflowId',
      type: 'number',
      required: true,
      description: 'Id of the workflow to run (its active version, else its latest).',
    },
    {
      name: 'items',
      type: 'json',
      description: 'Items to pass (array of objects). @default the input items',
    },
  ],
  async run(ctx) {
    const workflowId = Number(await ctx.param('workflowId'));
    const given = await ctx.param<Item[] | undefined>('items');
    const items = Array.isArray(given) ? given : ctx.items;
    const result = await ctx.env.runSubWorkflow({
      parent: ctx.execution,
      parentNode: ctx.node.name,
      workflowId,
      items,
      signal: ctx.signal,
    });
    return { outputs: [result] };
  },
};
