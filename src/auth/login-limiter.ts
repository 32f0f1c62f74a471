// Slows password guessing without handing a stranger the power to lock
// someone out. Failures are counted per client address, per (client, user)
// and per user; past a number of free failures each counter asks for an
// exponentially growing pause after its last failure, capped. The per-user
// counter (an attack spread over many addresses) only slows, with a small
// cap, and never applies to a client that has no failures of its own: the
// real admin at their own address always gets in with the right password.
// In memory: it protects one process; Fail2Ban, fed by the failure log line,
// protects the host.

export type LoginLimiterOptions = {
  /** Failures of one client for one user before the pauses start. @default 5 */
  maxFailures?: number;
  /** Longest pause a client can be asked to wait, and how long after its last failure a client is remembered is four times this. @default 900000 */
  windowMs?: number;
  /** First pause once the free failures are used; doubles with each further failure. @default 1000 */
  baseDelayMs?: number;
  /** Longest pause the per-user counter (any address) imposes on a client that has failed itself. @default 30000 */
  userCapMs?: number;
  /** Counters kept at most (oldest forgotten first), so a flood of addresses cannot exhaust memory. @default 100000 */
  maxEntries?: number;
  now?: () => number;
};

type Counter = { count: number; last: number };

/** The 8 hextets of an IPv6 address, or undefined when it is not one. */
function hextets(ip: string): string[] | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(missing).fill('0'), ...tail];
  return all.every((h) => /^[0-9a-f]{1,4}$/i.test(h)) ? all : undefined;
}

/**
 * The client a failure is counted against. An IPv6 host usually holds a
 * whole /64 and can pick a new address per attempt, so IPv6 counts per /64;
 * an IPv4-mapped address counts as the IPv4 address it is.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const h = hextets(ip.split('%')[0]!);
  return h
    ? `${h
        .slice(0, 4)
        .map((x) => x.toLowerCase().replace(/^0+(?=.)/, ''))
        .join(':')}::/64`
    : ip;
}

/** The pause a counter asks for: none for the first `free` failures, then base·2^(n−free), at most `cap`. */
export function backoffMs(
  failures: number,
  options: { free: number; baseMs: number; capMs: number },
): number {
  if (failures < options.free) return 0;
  const exp = Math.min(failures - options.free, 40);
  return Math.min(options.capMs, options.baseMs * 2 ** exp);
}

export class LoginLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly free: number;
  private readonly capMs: number;
  private readonly baseMs: number;
  private readonly userCapMs: number;
  private readonly forgetMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.free = options.maxFailures ?? 5;
    this.capMs = options.windowMs ?? 900_000;
    this.baseMs = options.baseDelayMs ?? 1000;
    this.userCapMs = options.userCapMs ?? 30_000;
    this.forgetMs = this.capMs * 4;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  private keys(ip: string, username: string) {
    const user = username.toLowerCase();
    const client = clientKey(ip);
    return { client: `ip:${client}`, pair: `pair:${client}\n${user}`, user: `user:${user}` };
  }

  private get(key: string): Counter | undefined {
    const c = this.counters.get(key);
    if (c && this.now() - c.last > this.forgetMs) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  private waitFor(key: string, free: number, capMs: number): number {
    const c = this.get(key);
    if (!c) return 0;
    const pause = backoffMs(c.count, { free, baseMs: this.baseMs, capMs });
    return Math.max(0, c.last + pause - this.now());
  }

  /** Seconds until the next attempt is allowed, or 0 when it is allowed now. */
  retryAfter(ip: string, username: string): number {
    const k = this.keys(ip, username);
    // A client guessing many usernames gets more free failures than one guessing one.
    let wait = Math.max(
      this.waitFor(k.pair, this.free, this.capMs),
      this.waitFor(k.client, this.free * 4, this.capMs),
    );
    // The per-user counter touches only clients that have failed themselves.
    if (this.get(k.client))
      wait = Math.max(wait, this.waitFor(k.user, this.free * 4, this.userCapMs));
    return Math.ceil(wait / 1000);
  }

  fail(ip: string, username: string): void {
    const now = this.now();
    for (const key of Object.values(this.keys(ip, username))) {
      const c = this.get(key);
      // Re-inserted so that Map order is least-recently-failed first.
      this.counters.delete(key);
      this.counters.set(key, { count: (c?.count ?? 0) + 1, last: now });
    }
    while (this.counters.size > this.maxEntries) {
      const oldest = this.counters.keys().next().value;
      if (oldest === undefined) break;
      this.counters.delete(oldest);
    }
  }

  /**
   * A correct password clears the (client, user) counter only: a client that
   * holds one valid account cannot use it to reset its guesses at others.
   */
  succeed(ip: string, username: string): void {
    this.counters.delete(this.keys(ip, username).pair);
  }
}
