// Counts failed logins per client address and per username over a sliding
// window. In memory: it protects one process; Fail2Ban, fed by the failure
// log line, protects the host.

export type LoginLimiterOptions = {
  /** Failures allowed per window before attempts are refused. @default 5 */
  maxFailures?: number;
  /** @default 900000 */
  windowMs?: number;
  now?: () => number;
};

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.max = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 900_000;
    this.now = options.now ?? Date.now;
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Seconds until the next attempt is allowed, or 0 when it is allowed now. */
  retryAfter(ip: string, username: string): number {
    let wait = 0;
    for (const key of [`ip:${ip}`, `user:${username.toLowerCase()}`]) {
      const list = this.recent(key);
      if (list.length >= this.max) wait = Math.max(wait, list[0]! + this.windowMs - this.now());
    }
    return Math.ceil(wait / 1000);
  }

  fail(ip: string, username: string): void {
    for (const key of [`ip:${ip}`, `user:${username.toLowerCase()}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
  }

  succeed(ip: string, username: string): void {
    this.failures.delete(`ip:${ip}`);
    this.failures.delete(`user:${username.toLowerCase()}`);
  }
}
