// Readiness checks that subsystems register (database, queue, LLM...).
// /readyz is ready when every check that is required passes.

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
