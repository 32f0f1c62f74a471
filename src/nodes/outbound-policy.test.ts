import { describe, expect, it } from 'vitest';

import {
  decideOutbound,
  outboundPolicy,
  parseAllowEntry,
  refusedAddress,
} from './outbound-policy.ts';

describe('refusedAddress', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.0.10', 'a private address'],
    ['100.64.0.1', 'a carrier-grade NAT (shared) address'],
    ['169.254.169.254', 'the cloud metadata address'],
    ['169.254.1.1', 'a link-local address'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
    ['::', 'the unspecified address'],
    ['::1', 'a loopback address'],
    ['::ffff:127.0.0.1', 'an IPv4-mapped address'],
    ['::ffff:7f00:1', 'an IPv4-mapped address'],
    ['::ffff:8.8.8.8', 'an IPv4-mapped address'],
    ['::127.0.0.1', 'an IPv4-compatible address'],
    ['64:ff9b::7f00:1', 'a NAT64 address'],
    ['fd00:ec2::254', 'the cloud metadata address'],
    ['fd12:3456::1', 'a unique-local address'],
    ['fc00::1', 'a unique-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['ff02::1', 'a multicast address'],
    ['2002:7f00:1::', 'a 6to4 address'],
  ])('%s is %s', (address, reason) => {
    expect(refusedAddress(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '2a00:1450::1'])(
    '%s is public',
    (address) => {
      expect(refusedAddress(address)).toBeUndefined();
    },
  );
});

describe('decideOutbound', () => {
  const policy = outboundPolicy([
    'internal.example',
    '*.svc.example',
    '127.0.0.1:8080',
    '10.1.0.0/16',
    '[::1]:9000',
  ]);
  it.each([
    ['internal.example', 80, '10.9.9.9', true],
    ['a.svc.example', 443, '192.168.1.1', true],
    ['svc.example', 443, '192.168.1.1', false],
    ['evil.example', 80, '127.0.0.1', false],
    ['127.0.0.1', 8080, '127.0.0.1', true],
    ['127.0.0.1', 8081, '127.0.0.1', false],
    ['anything', 80, '10.1.200.3', true],
    ['anything', 80, '10.2.0.1', false],
    ['[::1]', 9000, '::1', true],
    ['[::1]', 9001, '::1', false],
    ['public.example', 443, '93.184.216.34', true],
  ])('%s:%d at %s allowed: %s', (host, port, address, allowed) => {
    expect(decideOutbound(policy, { host, port, address }) === undefined).toBe(allowed);
  });

  it('names the address and the setting in a refusal', () => {
    expect(
      decideOutbound(outboundPolicy([]), { host: 'localhost', port: 80, address: '127.0.0.1' }),
    ).toBe(
      'localhost (127.0.0.1) is a loopback address; workflows may not reach it unless WARDEN_HTTP_ALLOW_HOSTS lists it',
    );
  });

  it.each([
    'http://x',
    'a:b:c',
    '10.0.0.0/33',
    'host:0',
    'host:99999',
    '[1.2.3.4]',
    '-bad-.example',
  ])('refuses the malformed entry %s', (entry) => {
    expect(() => parseAllowEntry(entry)).toThrow(/is not a host/);
  });
});
