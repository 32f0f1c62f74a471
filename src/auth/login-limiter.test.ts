import { describe, expect, it } from 'vitest';

import { backoffMs, clientKey, LoginLimiter } from './login-limiter.ts';

describe('backoffMs', () => {
  it.each([
    [0, 0],
    [2, 0],
    [3, 1000],
    [4, 2000],
    [6, 8000],
    [20, 60_000],
    [10_000, 60_000],
  ])('%i failures (3 free, 1 s base, 60 s cap) -> %i ms', (failures, want) => {
    expect(backoffMs(failures, { free: 3, baseMs: 1000, capMs: 60_000 })).toBe(want);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002::ffff', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['not-an-address', 'not-an-address'],
  ])('%s counts as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});

type Step =
  | { fail: [ip: string, user: string]; times?: number }
  | { succeed: [ip: string, user: string] }
  | { advance: number }
  | { expect: [ip: string, user: string, seconds: number | 'blocked' | 'free'] };

const cases: { name: string; steps: Step[] }[] = [
  {
    name: 'a stranger hammering admin does not stop admin from another address',
    steps: [
      { fail: ['10.6.6.6', 'admin'], times: 200 },
      { expect: ['10.6.6.6', 'admin', 'blocked'] },
      { expect: ['10.0.0.1', 'admin', 'free'] },
    ],
  },
  {
    name: 'the pauses grow with each failure past the free ones and stop at the cap',
    steps: [
      { fail: ['10.0.0.2', 'petra'], times: 3 },
      { expect: ['10.0.0.2', 'petra', 1] },
      { fail: ['10.0.0.2', 'petra'] },
      { expect: ['10.0.0.2', 'petra', 2] },
      { fail: ['10.0.0.2', 'petra'] },
      { expect: ['10.0.0.2', 'petra', 4] },
      { fail: ['10.0.0.2', 'petra'], times: 30 },
      { expect: ['10.0.0.2', 'petra', 60] },
    ],
  },
  {
    name: 'the pause ends by itself',
    steps: [
      { fail: ['10.0.0.3', 'a'], times: 5 },
      { expect: ['10.0.0.3', 'a', 4] },
      { advance: 4001 },
      { expect: ['10.0.0.3', 'a', 'free'] },
    ],
  },
  {
    name: 'one address guessing many usernames is slowed as a client',
    steps: [
      ...Array.from({ length: 12 }, (_, i): Step => ({ fail: ['10.0.0.4', `user${i}`] })),
      { expect: ['10.0.0.4', 'someone-new', 'blocked'] },
      { expect: ['10.0.0.5', 'someone-new', 'free'] },
    ],
  },
  {
    name: 'an attack on one user from many addresses slows only failing clients, with a small cap',
    steps: [
      ...Array.from({ length: 40 }, (_, i): Step => ({ fail: [`10.1.0.${i}`, 'admin'] })),
      // A client that failed once waits on the per-user counter, never beyond its cap.
      { expect: ['10.1.0.1', 'admin', 10] },
      // A client with no failures of its own is not slowed at all.
      { expect: ['192.168.1.10', 'admin', 'free'] },
    ],
  },
  {
    name: 'a success clears only its own (client, user) counter',
    steps: [
      { fail: ['10.0.0.6', 'a'], times: 3 },
      { succeed: ['10.0.0.6', 'a'] },
      { expect: ['10.0.0.6', 'a', 'free'] },
      { fail: ['10.0.0.6', 'b'], times: 3 },
      { succeed: ['10.0.0.6', 'a'] },
      { expect: ['10.0.0.6', 'b', 'blocked'] },
    ],
  },
  {
    name: 'an IPv6 client rotating addresses inside its /64 is one client',
    steps: [
      ...Array.from({ length: 5 }, (_, i): Step => ({ fail: [`2001:db8:7:7::${i + 1}`, 'admin'] })),
      { expect: ['2001:db8:7:7::99', 'admin', 'blocked'] },
      { expect: ['2001:db8:7:8::1', 'admin', 'free'] },
    ],
  },
  {
    name: 'usernames are compared without case',
    steps: [
      { fail: ['10.0.0.7', 'Admin'], times: 3 },
      { expect: ['10.0.0.7', 'ADMIN', 'blocked'] },
    ],
  },
  {
    name: 'a client is forgotten long after its last failure',
    steps: [
      { fail: ['10.0.0.8', 'a'], times: 50 },
      { advance: 4 * 60_000 + 1 },
      { fail: ['10.0.0.8', 'a'] },
      { expect: ['10.0.0.8', 'a', 'free'] },
    ],
  },
];

describe('LoginLimiter', () => {
  it.each(cases)('$name', ({ steps }) => {
    let now = 1_000_000;
    const l = new LoginLimiter({
      maxFailures: 3,
      windowMs: 60_000,
      baseDelayMs: 1000,
      userCapMs: 10_000,
      now: () => now,
    });
    for (const step of steps) {
      if ('fail' in step) for (let i = 0; i < (step.times ?? 1); i++) l.fail(...step.fail);
      else if ('succeed' in step) l.succeed(...step.succeed);
      else if ('advance' in step) now += step.advance;
      else {
        const [ip, user, want] = step.expect;
        const got = l.retryAfter(ip, user);
        if (want === 'free') expect(got, `${ip} ${user}`).toBe(0);
        else if (want === 'blocked') expect(got, `${ip} ${user}`).toBeGreaterThan(0);
        else expect(got, `${ip} ${user}`).toBe(want);
      }
    }
  });

  it('keeps at most maxEntries counters, forgetting the oldest', () => {
    const l = new LoginLimiter({ maxFailures: 1, maxEntries: 30 });
    l.fail('10.9.9.9', 'victim');
    for (let i = 0; i < 100; i++) l.fail(`10.2.0.${i}`, `u${i}`);
    expect(l.retryAfter('10.9.9.9', 'victim')).toBe(0);
    expect(l.retryAfter('10.2.0.99', 'u99')).toBeGreaterThan(0);
  });
});
