import { describe, expect, it } from 'vitest';

import { RefreshingCache } from './refreshing-cache.ts';

/** A loader whose calls wait until the test resolves them. */
function gatedLoader() {
  const calls: { key: string; resolve(v: string): void; reject(e: Error): void }[] = [];
  const load = (key: string) =>
    new Promise<string>((resolve, reject) => calls.push({ key, resolve, reject }));
  return { calls, load };
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RefreshingCache', () => {
  it('shares one load between concurrent misses of a key', async () => {
    const { calls, load } = gatedLoader();
    const cache = new RefreshingCache(load, { ttlMs: 1000 });
    const waiting = Array.from({ length: 50 }, () => cache.get('a'));
    const other = cache.get('b');
    expect(calls.map((c) => c.key)).toEqual(['a', 'b']);
    calls[0]!.resolve('A');
    calls[1]!.resolve('B');
    expect(new Set(await Promise.all(waiting))).toEqual(new Set(['A']));
    expect(await other).toBe('B');
    // Fresh: answered from memory.
    expect(await cache.get('a')).toBe('A');
    expect(calls).toHaveLength(2);
  });

  it('answers a stale entry at once and refreshes it once in the background', async () => {
    const { calls, load } = gatedLoader();
    const c = clock();
    const cache = new RefreshingCache(load, { ttlMs: 1000, staleMs: 1000, now: c.now });
    const first = cache.get('a');
    calls[0]!.resolve('v1');
    await first;
    c.advance(1500);
    expect(await cache.get('a')).toBe('v1');
    expect(await cache.get('a')).toBe('v1');
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('v2');
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get('a')).toBe('v2');
    expect(calls).toHaveLength(2);
  });

  it('waits for the load when an entry is past its stale window', async () => {
    const { calls, load } = gatedLoader();
    const c = clock();
    const cache = new RefreshingCache(load, { ttlMs: 1000, staleMs: 0, now: c.now });
    const first = cache.get('a');
    calls[0]!.resolve('v1');
    await first;
    c.advance(1000);
    const second = cache.get('a');
    let settled = false;
    void second.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    calls[1]!.resolve('v2');
    expect(await second).toBe('v2');
  });

  it('does not keep a failed load, and a failed background refresh keeps the stale entry', async () => {
    const { calls, load } = gatedLoader();
    const c = clock();
    const cache = new RefreshingCache(load, { ttlMs: 1000, staleMs: 1000, now: c.now });
    const failed = cache.get('a');
    calls[0]!.reject(new Error('database down'));
    await expect(failed).rejects.toThrow('database down');
    const retried = cache.get('a');
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('v1');
    expect(await retried).toBe('v1');

    c.advance(1200);
    expect(await cache.get('a')).toBe('v1');
    calls[2]!.reject(new Error('blip'));
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get('a')).toBe('v1');
    expect(calls).toHaveLength(4);
  });

  it('clear() drops entries and what a load in flight would have stored', async () => {
    const { calls, load } = gatedLoader();
    const cache = new RefreshingCache(load, { ttlMs: 1000 });
    const before = cache.get('a');
    cache.clear();
    calls[0]!.resolve('old');
    expect(await before).toBe('old');
    const after = cache.get('a');
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('new');
    expect(await after).toBe('new');
  });
});
