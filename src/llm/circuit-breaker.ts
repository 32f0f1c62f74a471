// A circuit breaker for the model server: after N consecutive failures it
// opens and refuses calls at once (no waiting on a dead server); after a
// cooldown it lets one trial call through (half-open) and closes on success.
import { OperationalError } from '../errors.ts';

export type CircuitState = 'closed' | 'open' | 'half_open';

export type CircuitBreakerOptions = {
  /** Consecutive failures that open the circuit. @default 5 */
  failureThreshold?: number;
  /** Milliseconds the circuit stays open before a trial call. @default 30000 */
  cooldownMs?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
};

export type CircuitSnapshot = {
  state: CircuitState;
  consecutiveFailures: number;
  openedAt?: string;
  lastError?: string;
};

export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private lastError: string | undefined;
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.failureThreshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Throws 'llm_circuit_open' when calls are refused; else admits one call. */
  admit(url: string): void {
    if (this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs) {
      this.state = 'half_open';
      this.trialInFlight = false;
    }
    if (this.state === 'closed') return;
    if (this.state === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    const retryInMs = Math.max(0, this.cooldownMs - (this.now() - this.openedAt));
    throw new OperationalError(
      'llm_circuit_open',
      `The model server at ${url} failed ${this.failures} times in a row; Warden stops calling it for ${Math.ceil(retryInMs / 1000)} s (last error: ${this.lastError ?? 'unknown'})`,
      { details: { circuit: this.snapshot(), retryInMs } },
    );
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
    this.trialInFlight = false;
  }

  failure(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
    this.trialInFlight = false;
  }

  /** A call that ended without saying anything about the server (caller cancelled, bad input). */
  release(): void {
    this.trialInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    const state =
      this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs
        ? 'half_open'
        : this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      ...(this.state !== 'closed' ? { openedAt: new Date(this.openedAt).toISOString() } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
