// Where a workflow may send an HTTP request: a pure decision over the host,
// the port and the address it resolved to. By default nothing that reaches
// into the machine or its private networks: loopback, private, link-local
// (with the cloud metadata addresses), CGNAT, unique-local IPv6, IPv4-mapped
// and translated forms, unspecified, multicast and reserved ranges are
// refused. WARDEN_HTTP_ALLOW_HOSTS lets some through: host names (exact or
// `*.domain`), addresses or CIDR ranges, each optionally with a port. The
// fetch around it (guarded-fetch.ts) applies this to every address DNS
// gives and to every redirect hop.
import { isIP } from 'node:net';

type Range = { v6: boolean; base: bigint; prefix: number; reason: string };

function v4ToBig(ip: string): bigint {
  return ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBig(ip: string): bigint {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v = v4ToBig(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${(v >> 16n).toString(16)}:${(v & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function range(cidr: string, reason: string): Range {
  const [addr, bits] = cidr.split('/');
  const v6 = isIP(addr!) === 6;
  return { v6, base: v6 ? v6ToBig(addr!) : v4ToBig(addr!), prefix: Number(bits), reason };
}

function inRange(value: bigint, v6: boolean, r: Range): boolean {
  if (r.v6 !== v6) return false;
  const width = v6 ? 128 : 32;
  const shift = BigInt(width - r.prefix);
  return value >> shift === r.base >> shift;
}

const refusedRanges: Range[] = [
  range('0.0.0.0/8', 'an unspecified ("this network") address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT (shared) address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.169.254/32', 'the cloud metadata address'),
  range('169.254.0.0/16', 'a link-local address'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'an IETF protocol address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.88.99.0/24', 'a 6to4 relay address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('240.0.0.0/4', 'a reserved address'),
  range('::/128', 'the unspecified address'),
  range('::1/128', 'a loopback address'),
  range('::ffff:0:0/96', 'an IPv4-mapped address'),
  range('::/96', 'an IPv4-compatible address'),
  range('64:ff9b::/96', 'a NAT64 address'),
  range('64:ff9b:1::/48', 'a NAT64 address'),
  range('100::/64', 'a discard address'),
  range('2001::/32', 'a Teredo address'),
  range('2001:db8::/32', 'a documentation address'),
  range('2002::/16', 'a 6to4 address'),
  range('fd00:ec2::254/128', 'the cloud metadata address'),
  range('fc00::/7', 'a unique-local address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a site-local address'),
  range('ff00::/8', 'a multicast address'),
];

/** Why an address is refused by default, or undefined when it is public. */
export function refusedAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const v6 = family === 6;
  const value = v6 ? v6ToBig(address) : v4ToBig(address);
  return refusedRanges.find((r) => inRange(value, v6, r))?.reason;
}

type AllowEntry =
  | { kind: 'host'; host: string; wildcard: boolean; port?: number }
  | { kind: 'address'; range: Range; port?: number };

/** One WARDEN_HTTP_ALLOW_HOSTS entry; throws on a malformed one. */
export function parseAllowEntry(entry: string): AllowEntry {
  const text = entry.trim().toLowerCase();
  const bad = () => new Error(`${JSON.stringify(entry)} is not a host, host:port, address or CIDR`);
  const portOf = (p: string | undefined) => {
    if (p === undefined) return undefined;
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw bad();
    return n;
  };
  if (text.includes('/')) {
    const [addr, bits] = text.split('/');
    const family = isIP(addr!);
    if (!family || !/^\d+$/.test(bits!) || Number(bits) > (family === 6 ? 128 : 32)) throw bad();
    return { kind: 'address', range: range(text, 'allowed') };
  }
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) throw bad();
    return {
      kind: 'address',
      range: range(`${bracketed[1]}/128`, 'allowed'),
      port: portOf(bracketed[2]),
    };
  }
  if (isIP(text) === 6) return { kind: 'address', range: range(`${text}/128`, 'allowed') };
  const [name, port, extra] = text.split(':');
  if (extra !== undefined || !name) throw bad();
  if (isIP(name) === 4)
    return { kind: 'address', range: range(`${name}/32`, 'allowed'), port: portOf(port) };
  const wildcard = name.startsWith('*.');
  const host = wildcard ? name.slice(2) : name;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) throw bad();
  return { kind: 'host', host, wildcard, port: portOf(port) };
}

export type OutboundPolicy = { allow: readonly AllowEntry[] };

export function outboundPolicy(allow: readonly string[]): OutboundPolicy {
  return { allow: allow.map(parseAllowEntry) };
}

/** The URL's host name as it is used for matching: lower case, IPv6 without brackets. */
export function bareHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function hostAllowed(policy: OutboundPolicy, host: string, port: number): boolean {
  return policy.allow.some(
    (e) =>
      e.kind === 'host' &&
      (e.port === undefined || e.port === port) &&
      (e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host),
  );
}

/**
 * Decides one connection: `host` as written in the URL, its `port`, and one
 * `address` it resolved to. Undefined when it may go; otherwise why not.
 */
export function decideOutbound(
  policy: OutboundPolicy,
  target: { host: string; port: number; address: string },
): string | undefined {
  const host = bareHost(target.host);
  if (hostAllowed(policy, host, target.port)) return undefined;
  const family = isIP(target.address);
  if (family === 0) return `${target.address} is not an IP address`;
  const v6 = family === 6;
  const value = v6 ? v6ToBig(target.address) : v4ToBig(target.address);
  if (
    policy.allow.some(
      (e) =>
        e.kind === 'address' &&
        (e.port === undefined || e.port === target.port) &&
        inRange(value, v6, e.range),
    )
  )
    return undefined;
  const why = refusedAddress(target.address);
  if (!why) return undefined;
  const shown = host === target.address ? host : `${host} (${target.address})`;
  return `${shown} is ${why}; workflows may not reach it unless WARDEN_HTTP_ALLOW_HOSTS lists it`;
}
