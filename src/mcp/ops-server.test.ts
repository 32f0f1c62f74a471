import { describe, expect, it } from 'vitest';

import type { ExecOutcome } from '../exec/executor.ts';
import { failedUnitsReport } from './ops-server.ts';

const ran = (over: Partial<Extract<ExecOutcome, { status: 'ran' }>>): ExecOutcome => ({
  status: 'ran',
  rule: 'catalogue',
  argv: ['systemctl', 'list-units', '--failed'],
  exitCode: 0,
  timedOut: false,
  truncated: false,
  stdout: '',
  stderr: '',
  durationMs: 5,
  ...over,
});

describe('diagnose: failed units', () => {
  it('says it could not tell when systemctl itself fails, instead of a false "(none)"', () => {
    expect(
      failedUnitsReport(
        ran({
          exitCode: 1,
          stderr:
            "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
        }),
      ),
    ).toEqual({
      unknown:
        "could not tell: systemctl exited 1: System has not been booted with systemd as init system (PID 1). Can't operate.",
    });
    expect(failedUnitsReport(ran({ exitCode: null, timedOut: true }))).toEqual({
      unknown: 'could not tell: systemctl timed out',
    });
  });

  it('lists the failed units, or (none) when systemctl succeeded with none', () => {
    expect(failedUnitsReport(ran({ stdout: 'nginx.service loaded failed failed nginx\n' }))).toBe(
      'nginx.service loaded failed failed nginx',
    );
    expect(failedUnitsReport(ran({ stdout: '\n' }))).toBe('(none)');
  });

  it('passes refusals and errors through', () => {
    const refused: ExecOutcome = { status: 'refused', rule: 'x', reason: 'no' };
    expect(failedUnitsReport(refused)).toBe(refused);
    expect(failedUnitsReport({ error: 'boom' })).toEqual({ error: 'boom' });
  });
});
