// Exponential backoff with jitter for background loops: a loop whose round
// failed (the database or Redis is down) skips its next rounds for a while
// instead of failing on every tick, and resumes at full speed after one
// round succeeds. Jitter keeps many processes from retrying in step.

export type BackoffOptions = {
  /** First pause after a failure. @default 500 */
  baseMs?: number;
  /** Longest pause. @default 10000 */
  maxMs?: number;
};

export class Backoff {
  private failures = 0;
  private until = 0;

  constructor(private readonly o: BackoffOptions = {}) {}

  /** True while the loop should skip its rounds. */
  get waiting(): boolean {
    return Date.now() < this.until;
  }

  /** Failures in a row so far. */
  get streak(): number {
    return this.failures;
  }

  /** Records a failed round; returns the pause before the next one, in ms. */
  failed(): number {
    this.failures++;
    const base = this.o.baseMs ?? 500;
    const ceiling = Math.min(this.o.maxMs ?? 10_000, base * 2 ** Math.min(this.failures - 1, 20));
    const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
    this.until = Date.now() + delay;
    return delay;
  }

  /** Records a round that worked; true when it ended a streak of failures. */
  succeeded(): boolean {
    const recovered = this.failures > 0;
    this.failures = 0;
    this.until = 0;
    return recovered;
  }
}
