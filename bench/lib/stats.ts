// Latency summaries: nearest-rank percentiles over every sample (no
// histogram buckets, no sampling), so p99 of 1,000 requests is the 990th
// slowest, and max is the slowest one there was.

export type Summary = {
  /** Requests answered with a 2xx. */
  count: number;
  /** Requests that failed (non-2xx, socket error, timeout). */
  errors: number;
  p50: number;
  p99: number;
  max: number;
};

/** Nearest-rank percentile of sorted values: the smallest value with at least q of them at or below it. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (q <= 0) return sorted[0]!;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summarize(latencies: readonly number[], errors = 0): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    errors,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}
