import { describe, expect, it } from 'vitest';

import { formatBytes, ProgressBars, ProgressCounter } from './progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => chunks.push(s), text: () => chunks.join(''), chunks };
}

describe('progress output', () => {
  it('formats bytes in SI units', () => {
    expect([formatBytes(512), formatBytes(4_113_289_984), formatBytes(11_358)]).toEqual([
      '512 B',
      '4.1 GB',
      '11.4 KB',
    ]);
  });

  it('writes plain lines off a terminal: statuses once, layers every 25%', () => {
    const out = sink(false);
    const p = new ProgressBars(out);
    p.status('pulling manifest');
    p.status('pulling manifest');
    for (const done of [0, 100, 260, 500, 990, 1000])
      p.update('sha256:a', 'pulling aaaa', done, 1000);
    p.status('success');
    expect(out.text()).toBe(
      [
        'pulling manifest',
        'pulling aaaa 0% of 1.0 KB',
        'pulling aaaa 25% of 1.0 KB',
        'pulling aaaa 50% of 1.0 KB',
        'pulling aaaa 75% of 1.0 KB',
        'pulling aaaa 100% of 1.0 KB',
        'success',
        '',
      ].join('\n'),
    );
    expect(out.text()).not.toContain('\x1b[');
  });

  it('draws one bar per layer on a terminal and redraws it in place', () => {
    const out = sink(true);
    const p = new ProgressBars(out);
    p.update('a', 'pulling aaaa', 0, 100);
    p.update('b', 'pulling bbbb', 0, 100);
    p.update('a', 'pulling aaaa', 100, 100);
    const last = out.chunks.at(-1)!;
    expect(last.startsWith('\x1b[2A\r\x1b[2Kpulling aaaa  [' + '#'.repeat(30) + '] 100%')).toBe(
      true,
    );
    expect(
      out
        .text()
        .split('\n')
        .filter((l) => l.includes('pulling bbbb')),
    ).toHaveLength(1);
  });

  it('counts every 10% off a terminal', () => {
    const out = sink(false);
    const c = new ProgressCounter(out, 'reindexing');
    for (let i = 0; i <= 100; i++) c.update(i, 100);
    expect(out.chunks).toHaveLength(11);
    expect(out.chunks.at(-1)).toBe('reindexing 100/100\n');
  });
});
