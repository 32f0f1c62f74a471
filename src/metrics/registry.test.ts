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
  it('hands out one instrument per name, and refuses a second of another type', () => {
    const r = new MetricsRegistry({ processMetrics: false });
    const a = r.counter({ name: 'warden_x_total', help: 'x', labelNames: ['k'] });
    const b = r.counter({ name: 'warden_x_total', help: 'x', labelNames: ['k'] });
    expect(b).toBe(a);
    expect(() => r.gauge({ name: 'warden_x_total', help: 'x' })).toThrow(/warden_x_total/);
  });

  it('says which role the process runs, and collects installation-wide figures only in main', async () => {
    const worker = new MetricsRegistry({ role: 'worker', processMetrics: false });
    expect(await worker.render()).toMatch(
      /^warden_build_info\{version="[^"]+",nodejs="[^"]+",role="worker"\} 1$/m,
    );
    expect(worker.queueWide).toBe(false);
    expect(new MetricsRegistry({ role: 'main', processMetrics: false }).queueWide).toBe(true);
  });

  it('answers a scrape when a reader fails, and counts the failure', async () => {
    const r = new MetricsRegistry({ processMetrics: false });
    r.gaugeFrom({ name: 'warden_db_thing', help: 'h' }, () => {
      throw new Error('database away');
    });
    r.gaugeFrom({ name: 'warden_ok_thing', help: 'h' }, (g) => g.set(7));
    expect(await r.render()).toMatch(/^warden_ok_thing 7$/m);
    const errors = await r.registry.getSingleMetric('warden_metrics_collect_errors_total')!.get();
    expect(errors.values).toEqual([{ labels: { collector: 'warden_db_thing' }, value: 1 }]);
  });

  it('includes the standard process and event-loop metrics', async () => {
    const text = await new MetricsRegistry().render();
    expect(text).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
    expect(text).toMatch(/^process_start_time_seconds \d+$/m);
  });

  it('renders families from register() after its own metrics', async () => {
    const r = new MetricsRegistry({ processMetrics: false });
    r.register(() => [
      { name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { s: 'a' }, value: 1 }] },
    ]);
    r.register(async () => [
      { name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { s: 'b' }, value: 2 }] },
    ]);
    const text = await r.render();
    expect(text).toContain('# TYPE m gauge\nm{s="a"} 1\nm{s="b"} 2\n');
    expect(text.match(/# TYPE m gauge/g)).toHaveLength(1);
  });

  it('counts by label set regardless of label order, for register() collectors', async () => {
    const c = new LabeledCounter();
    c.inc({ a: '1', b: '2' });
    c.inc({ b: '2', a: '1' }, 2);
    c.inc({ a: '9', b: '2' });
    const r = new MetricsRegistry({ processMetrics: false });
    r.register(() => [
      { name: 'warden_c_total', help: 'c', type: 'counter', samples: c.samples() },
    ]);
    const text = await r.render();
    expect(text).toMatch(/^warden_c_total\{a="1",b="2"\} 3$/m);
    expect(text).toMatch(/^warden_c_total\{a="9",b="2"\} 1$/m);
  });
});
