import { describe, expect, it } from 'vitest';

import { ModelLimiter } from './model-limiter.ts';

describe('ModelLimiter', () => {
  it('queues beyond the limit, in order, per model', async () => {
    const l = new ModelLimiter(1);
    const order: string[] = [];
    const r1 = await l.acquire('a');
    const p2 = l.acquire('a').then((r) => (order.push('second'), r));
    const p3 = l.acquire('a').then((r) => (order.push('third'), r));
    const other = await l.acquire('b');
    expect(l.stats()).toEqual({ a: { active: 1, queued: 2 }, b: { active: 1, queued: 0 } });
    r1();
    (await p2)();
    (await p3)();
    other();
    expect(order).toEqual(['second', 'third']);
    expect(l.stats()).toEqual({ a: { active: 0, queued: 0 }, b: { active: 0, queued: 0 } });
  });

  it('removes an aborted waiter without giving it a slot', async () => {
    const l = new ModelLimiter(1);
    const r1 = await l.acquire('a');
    const ac = new AbortController();
    const waiting = l.acquire('a', ac.signal);
    ac.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(l.stats().a).toEqual({ active: 1, queued: 0 });
    r1();
    r1(); // a second release is a no-op
    expect(l.stats().a).toEqual({ active: 0, queued: 0 });
  });
});
