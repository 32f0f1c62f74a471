import { describe, expect, it } from 'vitest';

import type { GateInput, GateOutcome } from './decide.ts';
import { decide } from './decide.ts';

const rows: Array<[string, GateInput, GateOutcome]> = [
  // Anything that does not render from the catalogue never runs.
  ['invalid action', { source: 'model', risk: 'invalid', invalidReason: 'x' }, 'refuse'],
  [
    'invalid remembered action',
    { source: 'memory', risk: 'invalid', evidence: 'confirmed' },
    'refuse',
  ],
  ['invalid approved action', { source: 'approved', risk: 'invalid' }, 'refuse'],
  // A person's approval runs exactly what was approved.
  ['approved dangerous', { source: 'approved', risk: 'dangerous', approvedBy: 'ann' }, 'run'],
  ['approved change', { source: 'approved', risk: 'change', approvedBy: 'ann' }, 'run'],
  // Remembered fixes: evidence decides.
  ['memory change confirmed', { source: 'memory', risk: 'change', evidence: 'confirmed' }, 'run'],
  ['memory read confirmed', { source: 'memory', risk: 'read', evidence: 'confirmed' }, 'run'],
  ['memory read partial', { source: 'memory', risk: 'read', evidence: 'partial' }, 'run'],
  [
    'memory dangerous confirmed',
    { source: 'memory', risk: 'dangerous', evidence: 'confirmed' },
    'ask_person',
  ],
  [
    'memory dangerous partial',
    { source: 'memory', risk: 'dangerous', evidence: 'partial' },
    'ask_person',
  ],
  [
    'memory change contradicted',
    { source: 'memory', risk: 'change', evidence: 'contradicted' },
    'diagnose',
  ],
  [
    'memory read contradicted',
    { source: 'memory', risk: 'read', evidence: 'contradicted' },
    'diagnose',
  ],
  [
    'memory dangerous contradicted',
    { source: 'memory', risk: 'dangerous', evidence: 'contradicted' },
    'diagnose',
  ],
  [
    'memory change unconfirmed',
    { source: 'memory', risk: 'change', evidence: 'unconfirmed' },
    'diagnose',
  ],
  ['memory change unchecked', { source: 'memory', risk: 'change' }, 'diagnose'],
  [
    'memory change partial, validator not asked',
    { source: 'memory', risk: 'change', evidence: 'partial' },
    'ask_validator',
  ],
  [
    'memory change partial, AGREED',
    { source: 'memory', risk: 'change', evidence: 'partial', validator: 'AGREED' },
    'run',
  ],
  [
    'memory change partial, PARTIAL',
    { source: 'memory', risk: 'change', evidence: 'partial', validator: 'PARTIAL' },
    'diagnose',
  ],
  [
    'memory change partial, DISAGREED',
    { source: 'memory', risk: 'change', evidence: 'partial', validator: 'DISAGREED' },
    'diagnose',
  ],
  [
    'memory change partial, no validator',
    { source: 'memory', risk: 'change', evidence: 'partial', validator: 'unavailable' },
    'diagnose',
  ],
  [
    'memory change unrecorded, not asked',
    { source: 'memory', risk: 'change', evidence: 'unrecorded' },
    'ask_validator',
  ],
  [
    'memory change unrecorded, AGREED',
    { source: 'memory', risk: 'change', evidence: 'unrecorded', validator: 'AGREED' },
    'run',
  ],
  [
    'memory change confirmed ignores a validator',
    { source: 'memory', risk: 'change', evidence: 'confirmed', validator: 'DISAGREED' },
    'run',
  ],
  // The model's proposals.
  ['model read', { source: 'model', risk: 'read' }, 'run'],
  ['model dangerous', { source: 'model', risk: 'dangerous' }, 'ask_person'],
  [
    'model dangerous, AGREED',
    { source: 'model', risk: 'dangerous', validator: 'AGREED' },
    'ask_person',
  ],
  ['model change, not asked', { source: 'model', risk: 'change' }, 'ask_validator'],
  ['model change, AGREED', { source: 'model', risk: 'change', validator: 'AGREED' }, 'run'],
  [
    'model change, PARTIAL',
    { source: 'model', risk: 'change', validator: 'PARTIAL' },
    'ask_person',
  ],
  [
    'model change, DISAGREED',
    { source: 'model', risk: 'change', validator: 'DISAGREED' },
    'ask_person',
  ],
  [
    'model change, no validator',
    { source: 'model', risk: 'change', validator: 'unavailable' },
    'refuse',
  ],
];

describe('decide', () => {
  it.each(rows)('%s', (_name, input, outcome) => {
    const d = decide(input);
    expect(d.outcome).toBe(outcome);
    expect(d.reason.length).toBeGreaterThan(0);
  });

  it('names what differs when it sends a look-alike to diagnosis', () => {
    const d = decide({
      source: 'memory',
      risk: 'change',
      evidence: 'contradicted',
      difference: 'probe nginx.test does not show "worker_connections"',
    });
    expect(d.reason).toBe(
      'similar past incident; evidence differs: probe nginx.test does not show "worker_connections"',
    );
  });
});
