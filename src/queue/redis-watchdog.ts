// Watches Redis connections: PINGs each on an interval with a timeout. A
// PING that does not come back (server gone, or a half-open TCP connection
// that would otherwise look healthy for hours) marks Redis down and forces
// every watched connection to reconnect. /readyz reads status().
import type { Redis } from 'ioredis';

import type { CheckResult } from '../health.ts';
import type { Logger } from '../log.ts';

export type RedisWatchdogOptions = {
  /** Connections to PING (not blocking ones: a PING would queue behind BZPOPMIN). */
  pinged: () => Redis[];
  /** Connections to reconnect as well when a PING fails (blocking ones). */
  reconnectAlso?: () => Promise<Redis[]>;
  intervalMs: number;
  timeoutMs: number;
  logger?: Logger;
};

export class RedisWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private ok = false;
  private detail = 'not checked yet';
  private lastOkAt: Date | undefined;
  private checking = false;
  private wasDown = false;
  private readonly recovered: (() => void)[] = [];

  constructor(private readonly o: RedisWatchdogOptions) {}

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Calls listener whenever Redis answers again after a failed round. */
  onRecovered(listener: () => void): void {
    this.recovered.push(listener);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  status(): CheckResult {
    return {
      ok: this.ok,
      ...(this.ok ? {} : { detail: this.detail }),
      lastOkAt: this.lastOkAt?.toISOString() ?? null,
    };
  }

  /** One round of PINGs; exposed for tests and for a readiness probe that wants it now. */
  async tick(): Promise<boolean> {
    if (this.checking) return this.ok;
    this.checking = true;
    try {
      await Promise.all(this.o.pinged().map((c) => this.ping(c)));
      if (!this.ok && this.wasDown) {
        this.o.logger?.info('Redis answers again');
        for (const f of this.recovered) f();
      }
      this.wasDown = false;
      this.ok = true;
      this.lastOkAt = new Date();
    } catch (err) {
      const was = this.ok;
      this.ok = false;
      this.wasDown = true;
      this.detail = `Redis did not answer PING: ${(err as Error).message}`;
      if (was)
        this.o.logger?.warn({ err }, 'Redis is down or the connection is half-open; reconnecting');
      await this.reconnect();
    } finally {
      this.checking = false;
    }
    return this.ok;
  }

  private async ping(c: Redis): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.ping(),
        new Promise((_, reject) => {
          t = setTimeout(
            () => reject(new Error(`no PONG within ${this.o.timeoutMs} ms`)),
            this.o.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  private async reconnect() {
    const extra = (await this.o.reconnectAlso?.().catch(() => [])) ?? [];
    for (const c of [...this.o.pinged(), ...extra]) {
      // Only connections that think they are up: ioredis already retries the others.
      if (c.status === 'ready' || c.status === 'connect') c.disconnect(true);
    }
  }
}
