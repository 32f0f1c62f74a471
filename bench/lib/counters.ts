// Counters read from outside Warden's code paths: a Prometheus exposition
// (Warden's own /metrics) summed by metric name, and Redis's INFO
// commandstats, whose calls the server counts itself.

/** The sum of every sample of a metric over all its labels, or undefined when the exposition lacks it. */
export function sumMetric(exposition: string, name: string): number | undefined {
  let found = false;
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!m || m[1] !== name) continue;
    const v = Number(m[2]);
    if (!Number.isFinite(v)) continue;
    found = true;
    total += v;
  }
  return found ? total : undefined;
}

/** Calls per command from `INFO commandstats` (lines like `cmdstat_get:calls=3,usec=...`). */
export function parseCommandstats(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Calls made between two commandstats readings, the reading commands themselves left out. */
export function commandCalls(
  before: Map<string, number>,
  after: Map<string, number>,
  exclude: readonly string[] = ['info'],
): number {
  let n = 0;
  for (const [cmd, calls] of after) if (!exclude.includes(cmd)) n += calls - (before.get(cmd) ?? 0);
  return n;
}
