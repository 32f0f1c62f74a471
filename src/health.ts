// Readiness checks that subsystems register (database, queue, LLM...).
// /readyz is ready when every check that is required passes.
import { hideLocations, maskUrlsInText } from './config/mask.ts';

export type CheckResult = { ok: boolean; detail?: string; [key: string]: unknown };

export type Check = {
  name: string;
  /** A failing required check makes the process not ready. @default true */
  required?: boolean;
  run(): Promise<CheckResult>;
};

export class HealthChecks {
  private readonly checks: Check[] = [];

  register(check: Check): void {
    this.checks.push(check);
  }

  async run(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<CheckResult>((resolve) => {
          timer = setTimeout(
            () => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
            timeoutMs,
          );
        });
        try {
          const r = await Promise.race([c.run(), timeout]);
          return [c, r] as const;
        } catch (err) {
          return [
            c,
            { ok: false, detail: err instanceof Error ? err.message : String(err) },
          ] as const;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return {
      ready: results.every(([c, r]) => r.ok || c.required === false),
      checks: Object.fromEntries(results.map(([c, r]) => [c.name, r])),
    };
  }
}

// Fields that say where a dependency lives; a public answer drops them.
const locationKeys = new Set(['url', 'server', 'host', 'hostname', 'address', 'endpoint', 'dsn']);

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return hideLocations(maskUrlsInText(value));
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth - 1));
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !locationKeys.has(k.toLowerCase()))
      .map(([k, v]) => [k, scrub(v, depth - 1)]),
  );
}

/** The check results as a public /readyz shows them: which dependency is down, not where (no URL, host or credential). */
export function publicChecks(checks: Record<string, CheckResult>): Record<string, CheckResult> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, r]) => [name, scrub(r, 4) as CheckResult]),
  );
}
