import { describe, expect, it } from 'vitest';

import { LabeledCounter, MetricsRegistry, renderFamilies } from './registry.ts';

describe('renderFamilies', () => {
  it('writes the Prometheus text format with escaped labels', () => {
    const text = renderFamilies([
      {
        name: 'warden_x_total',
        help: 'X.\nmore',
        type: 'counter',
        samples: [{ labels: { a: 'q"u\\o\nte' }, value: 3 }],
      },
      {
        name: 'warden_g',
        help: 'G',
        type: 'gauge',
        samples: [{ value: NaN }, { labels: { b: 'c' }, value: Infinity }],
      },
    ]);
    expect(text).toBe(
      [
        '# HELP warden_x_total X.\\nmore',
        '# TYPE warden_x_total counter',
        'warden_x_total{a="q\\"u\\\\o\\nte"} 3',
        '# HELP warden_g G',
        '# TYPE warden_g gauge',
        'warden_g NaN',
        'warden_g{b="c"} +Inf',
        '',
      ].join('\n'),
    );
  });

  it('refuses invalid metric and label names', () => {
    expect(() =>
      renderFamilies([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }]),
    ).toThrow(/bad-name/);
    expect(() =>
      renderFamilies([
        { name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'x-y': '1' }, value: 1 }] },
      ]),
    ).toThrow(/x-y/);
  });
});

describe('MetricsRegistry', () => {
  it('merges samples of one family from several collectors', async () => {
    const r = new MetricsRegistry();
    r.register(() => [
      { name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { s: 'a' }, value: 1 }] },
    ]);
    r.register(async () => [
      { name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { s: 'b' }, value: 2 }] },
    ]);
    const families = await r.collect();
    expect(families).toHaveLength(1);
    expect(families[0]!.samples).toEqual([
      { labels: { s: 'a' }, value: 1 },
      { labels: { s: 'b' }, value: 2 },
    ]);
  });

  it('counts by label set regardless of label order', () => {
    const c = new LabeledCounter();
    c.inc({ a: '1', b: '2' });
    c.inc({ b: '2', a: '1' }, 2);
    c.inc({ a: '9', b: '2' });
    expect(c.samples()).toEqual([
      { labels: { a: '1', b: '2' }, value: 3 },
      { labels: { a: '9', b: '2' }, value: 1 },
    ]);
  });
});
