import { describe, expect, it } from 'vitest';

import { LoginLimiter } from './login-limiter.ts';

describe('LoginLimiter', () => {
  it('blocks an address after N failures until the window passes', () => {
    let now = 1_000_000;
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('10.0.0.1', `user${i}`)).toBe(0);
      l.fail('10.0.0.1', `user${i}`);
    }
    expect(l.retryAfter('10.0.0.1', 'someone')).toBe(60);
    expect(l.retryAfter('10.0.0.2', 'someone')).toBe(0);
    now += 60_001;
    expect(l.retryAfter('10.0.0.1', 'someone')).toBe(0);
  });

  it('blocks a username attacked from many addresses', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 60_000 });
    l.fail('10.0.0.1', 'Admin');
    l.fail('10.0.0.2', 'admin');
    expect(l.retryAfter('10.0.0.3', 'ADMIN')).toBeGreaterThan(0);
  });

  it('forgets failures after a success', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 60_000 });
    l.fail('10.0.0.1', 'a');
    l.succeed('10.0.0.1', 'a');
    l.fail('10.0.0.1', 'a');
    expect(l.retryAfter('10.0.0.1', 'a')).toBe(0);
  });
});
