// Wait: a durable sleep. The executor stores the resume time on the
// execution and releases it; the sweep (or a delayed job) resumes it later,
// on any worker, so nothing waits in memory.
import { UserError } from '../errors.ts';
import type { NodeType } from '../engine/node-types.ts';

export const waitNode: NodeType = {
  type: 'wait',
  displayName: 'Wait',
  description: 'Pauses the execution for a number of seconds or until a time; survives restarts.',
  group: 'flow',
  inputs: 1,
  outputs: 1,
  sideEffects: false,
  parameters: [
    { name: 'seconds', type: 'number', description: 'How long to wait.' },
    {
      name: 'until',
      type: 'string',
      description: 'ISO 8601 time to wait until (used when seconds is unset).',
    },
  ],
  async run(ctx) {
    const seconds = await ctx.param<number | undefined>('seconds');
    const until = await ctx.param<string | undefined>('until');
    let at: Date;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0)
      at = new Date(Date.now() + seconds * 1000);
    else if (typeof until === 'string' && !Number.isNaN(Date.parse(until))) at = new Date(until);
    else
      throw new UserError(
        'invalid_parameter',
        'wait needs seconds (a number >= 0) or until (an ISO time)',
      );
    return { outputs: [ctx.items], waitUntil: at };
  },
};
