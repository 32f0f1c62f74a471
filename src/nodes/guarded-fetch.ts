// The one way a workflow reaches the network: fetch with the outbound policy
// (outbound-policy.ts) applied where it cannot be dodged. The host's
// addresses are resolved by our own lookup inside the connection (an undici
// Agent's `connect.lookup`), every address is checked, and the socket goes to
// the address that was checked, so a DNS answer that changes between a check
// and the connection (rebinding) changes nothing. Literal IPs in the URL are
// checked before connecting (no lookup happens for them). Redirects are
// followed here, by hand, each hop checked the same way, at most
// `maxRedirects`; credentials are not carried to another origin.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

import type { Response as UndiciResponse } from 'undici';

import { UserError } from '../errors.ts';
import type { OutboundPolicy } from './outbound-policy.ts';
import { bareHost, decideOutbound } from './outbound-policy.ts';

export type GuardedFetchOptions = {
  policy: OutboundPolicy;
  signal?: AbortSignal;
  /** @default 10 */
  maxRedirects?: number;
};

export type GuardedRequest = {
  method: string;
  headers: Record<string, string>;
  body?: string;
};

/** A destination the outbound policy refuses; who wrote the URL is at fault. */
export class OutboundRefused extends UserError {
  constructor(message: string) {
    super('http_destination_refused', `refused: ${message}`);
  }
}

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80);

function checkUrl(u: URL, policy: OutboundPolicy): void {
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new OutboundRefused(`${u.protocol} URLs are not fetched; only http and https`);
  const host = bareHost(u.hostname);
  if (isIP(host)) {
    const why = decideOutbound(policy, { host, port: defaultPort(u), address: host });
    if (why) throw new OutboundRefused(why);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A dns.lookup replacement that refuses when any resolved address is refused. */
function guardedLookup(policy: OutboundPolicy, port: number) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = decideOutbound(policy, { host: hostname, port, address: a.address });
        if (why) return callback(new OutboundRefused(why), []);
      }
      if (list.length === 0)
        return callback(
          Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }),
          [],
        );
      if (options.all) return callback(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** The refusal somewhere in an error's cause chain, if any. */
function refusalIn(err: unknown): OutboundRefused | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof OutboundRefused) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Fetches `url` under the policy, following redirects by hand, and hands the
 * final response to `read`; the connections are closed when `read` is done.
 */
export async function guardedFetch<T>(
  url: URL,
  init: GuardedRequest,
  options: GuardedFetchOptions,
  read: (res: UndiciResponse, finalUrl: URL) => Promise<T>,
): Promise<T> {
  // Loaded at the first request, not at start: a process that makes none never pays for it.
  const { Agent, fetch: undiciFetch } = await import('undici');
  const max = options.maxRedirects ?? 10;
  let current = url;
  let { method, body } = init;
  let headers = { ...init.headers };
  for (let hop = 0; ; hop++) {
    checkUrl(current, options.policy);
    const agent = new Agent({
      connect: { lookup: guardedLookup(options.policy, defaultPort(current)) },
    });
    try {
      let res: UndiciResponse;
      try {
        res = await undiciFetch(current, {
          method,
          headers,
          body,
          signal: options.signal,
          redirect: 'manual',
          dispatcher: agent,
        });
      } catch (err) {
        const refused = refusalIn(err);
        if (refused) throw refused;
        throw err;
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status > 399 || res.status === 304 || !location)
        return await read(res, current);
      await res.body?.cancel().catch(() => {});
      if (hop >= max)
        throw new UserError(
          'http_too_many_redirects',
          `more than ${max} redirects from ${url.origin}`,
        );
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new UserError(
          'http_bad_redirect',
          `redirect to an invalid URL: ${location.slice(0, 200)}`,
        );
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !/^content-/i.test(k)),
        );
      }
      if (next.origin !== current.origin)
        headers = Object.fromEntries(
          Object.entries(headers).filter(
            ([k]) => !/^(authorization|cookie|proxy-authorization)$/i.test(k),
          ),
        );
      current = next;
    } finally {
      await agent.close().catch(() => {});
    }
  }
}
