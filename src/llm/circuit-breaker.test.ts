import { describe, expect, it } from 'vitest';

import { CircuitBreaker } from './circuit-breaker.ts';

describe('CircuitBreaker', () => {
  const make = () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    return { b, advance: (ms: number) => (now += ms) };
  };

  it('opens after the threshold of consecutive failures; a success in between resets the count', () => {
    const { b } = make();
    b.failure(new Error('a'));
    b.failure(new Error('b'));
    b.success();
    b.failure(new Error('c'));
    b.failure(new Error('d'));
    expect(b.snapshot().state).toBe('closed');
    b.failure(new Error('e'));
    expect(b.snapshot()).toMatchObject({ state: 'open', consecutiveFailures: 3, lastError: 'e' });
    expect(() => b.admit('http://x')).toThrow(/failed 3 times in a row/);
  });

  it('lets exactly one trial through when half-open', () => {
    const { b, advance } = make();
    for (let i = 0; i < 3; i++) b.failure(new Error('down'));
    advance(1000);
    expect(() => b.admit('http://x')).not.toThrow();
    expect(() => b.admit('http://x')).toThrow(/stops calling/);
    b.success();
    expect(b.snapshot().state).toBe('closed');
    expect(() => b.admit('http://x')).not.toThrow();
  });

  it('frees the trial slot when the trial ends without a verdict', () => {
    const { b, advance } = make();
    for (let i = 0; i < 3; i++) b.failure(new Error('down'));
    advance(1000);
    b.admit('http://x');
    b.release();
    expect(() => b.admit('http://x')).not.toThrow();
  });
});
