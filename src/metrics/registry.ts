// Metrics in the Prometheus text format. Subsystems register collectors that
// read their own counters at scrape time, so nothing is counted twice and a
// subsystem needs no metrics library of its own.

export type MetricType = 'counter' | 'gauge';
export type Labels = Record<string, string>;
export type Sample = { labels?: Labels; value: number };
export type MetricFamily = { name: string; help: string; type: MetricType; samples: Sample[] };
export type Collector = () => MetricFamily[] | Promise<MetricFamily[]>;

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

export function renderFamilies(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
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
  return `${out.join('\n')}\n`;
}

export class MetricsRegistry {
  private readonly collectors: Collector[] = [];

  register(collector: Collector): void {
    this.collectors.push(collector);
  }

  /** Every family, merged by name (two collectors may add samples to one family). */
  async collect(): Promise<MetricFamily[]> {
    const byName = new Map<string, MetricFamily>();
    for (const families of await Promise.all(this.collectors.map((c) => c()))) {
      for (const f of families) {
        const seen = byName.get(f.name);
        if (seen) seen.samples.push(...f.samples);
        else byName.set(f.name, { ...f, samples: [...f.samples] });
      }
    }
    return [...byName.values()];
  }

  async render(): Promise<string> {
    return renderFamilies(await this.collect());
  }
}

/** Counts by label set, for collectors that count events themselves. */
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
