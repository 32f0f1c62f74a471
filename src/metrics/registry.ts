// Metrics on prom-client: one registry per process, with the standard process
// and event-loop metrics and warden_build_info. Subsystems get their
// instruments with counter()/gauge()/histogram(), which return the one
// already registered under that name, so two callers never clash. Figures
// that describe the whole installation (queue depth, executions by status in
// the database) are collected only where `queueWide` is set: the main process,
// so that Prometheus summing main and workers counts them once.
import type {
  CounterConfiguration,
  GaugeConfiguration,
  HistogramConfiguration,
  Metric,
} from 'prom-client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { wardenVersion } from '../version.ts';

/** What this process is, as the `role` label of warden_build_info. */
export type ProcessRole = 'all' | 'main' | 'worker' | 'mcp' | 'cli';

export type MetricsRegistryOptions = {
  /** @default 'all' */
  role?: ProcessRole;
  /** Collect process, heap, GC and event-loop metrics. @default true */
  processMetrics?: boolean;
};

// The old hand-written registry's collector shape, still accepted by
// register() so a subsystem can expose figures it computes at scrape time.
export type MetricType = 'counter' | 'gauge';
export type Labels = Record<string, string>;
export type Sample = { labels?: Labels; value: number };
export type MetricFamily = { name: string; help: string; type: MetricType; samples: Sample[] };
export type Collector = () => MetricFamily[] | Promise<MetricFamily[]>;

/** Seconds buckets for work that takes milliseconds to minutes (HTTP, steps, executions, models). */
export const secondsBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
] as const;

export class MetricsRegistry {
  readonly registry = new Registry();
  readonly role: ProcessRole;
  private readonly collectErrors: Counter<'collector'>;

  constructor(options: MetricsRegistryOptions = {}) {
    this.role = options.role ?? 'all';
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters (promtool refuses them); the same figures
      // by type stay, as nodejs_active_handles and the like.
      for (const name of [
        'nodejs_active_handles_total',
        'nodejs_active_requests_total',
        'nodejs_active_resources_total',
      ])
        this.registry.removeSingleMetric(name);
    }
    this.gauge({
      name: 'warden_build_info',
      help: 'Always 1; the labels say which Warden, which Node.js and which role this process runs.',
      labelNames: ['version', 'nodejs', 'role'],
    })
      .labels({ version: wardenVersion, nodejs: process.versions.node, role: this.role })
      .set(1);
    this.collectErrors = this.counter({
      name: 'warden_metrics_collect_errors_total',
      help: 'Scrapes in which a collector failed (its figures keep their last value), by collector.',
      labelNames: ['collector'],
    });
  }

  /** True where installation-wide figures belong: the main or all-in-one process. */
  get queueWide(): boolean {
    return this.role === 'all' || this.role === 'main';
  }

  private existing(name: string, kind: 'counter' | 'gauge' | 'histogram'): Metric | undefined {
    const m: Metric | undefined = this.registry.getSingleMetric(name);
    const ok =
      m === undefined ||
      (kind === 'counter' && m instanceof Counter) ||
      (kind === 'gauge' && m instanceof Gauge) ||
      (kind === 'histogram' && m instanceof Histogram);
    if (!ok) throw new Error(`metric ${name} is already registered as another type than ${kind}`);
    return m;
  }

  counter<L extends string>(config: Omit<CounterConfiguration<L>, 'registers'>): Counter<L> {
    return (
      (this.existing(config.name, 'counter') as Counter<L> | undefined) ??
      new Counter<L>({ ...config, registers: [this.registry] })
    );
  }

  gauge<L extends string>(config: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L> {
    return (
      (this.existing(config.name, 'gauge') as Gauge<L> | undefined) ??
      new Gauge<L>({ ...config, registers: [this.registry] })
    );
  }

  histogram<L extends string>(config: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L> {
    return (
      (this.existing(config.name, 'histogram') as Histogram<L> | undefined) ??
      new Histogram<L>({ ...config, registers: [this.registry] })
    );
  }

  /**
   * A gauge filled at scrape time by an async reader (a database count). A
   * reader that fails leaves the last values and counts the failure, so
   * /metrics still answers while the database is away.
   */
  gaugeFrom<L extends string>(
    config: Omit<GaugeConfiguration<L>, 'registers' | 'collect'>,
    read: (gauge: Gauge<L>) => Promise<void> | void,
  ): Gauge<L> {
    const errors = this.collectErrors;
    return this.gauge<L>({
      ...config,
      async collect() {
        try {
          await read(this);
        } catch {
          errors.inc({ collector: config.name });
        }
      },
    });
  }

  private readonly legacy: Collector[] = [];

  /** Figures computed at scrape time in the family shape; prefer counter()/gauge(). */
  register(collector: Collector): void {
    this.legacy.push(collector);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    const text = await this.registry.metrics();
    if (this.legacy.length === 0) return text;
    const families = (await Promise.all(this.legacy.map((c) => c()))).flat();
    return `${text}${renderFamilies(families)}`;
  }
}

const namePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelPattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string) =>
  v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
const escapeHelp = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** The text format for families (samples of one name are merged into one family). */
export function renderFamilies(families: MetricFamily[]): string {
  const byName = new Map<string, MetricFamily>();
  for (const f of families) {
    const seen = byName.get(f.name);
    if (seen) seen.samples.push(...f.samples);
    else byName.set(f.name, { ...f, samples: [...f.samples] });
  }
  const out: string[] = [];
  for (const f of byName.values()) {
    if (!namePattern.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      for (const [k] of labels)
        if (!labelPattern.test(k)) throw new Error(`invalid label name ${k} on ${f.name}`);
      const l = labels.length
        ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
        : '';
      out.push(`${f.name}${l} ${formatValue(s.value)}`);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** Counts by label set, for collectors given to register(); prefer counter(). */
export class LabeledCounter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels, by = 1): void {
    const key = JSON.stringify(Object.entries(labels).sort());
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  samples(): Sample[] {
    return [...this.values.values()].map((e) => ({ labels: e.labels, value: e.value }));
  }
}
