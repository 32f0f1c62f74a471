// Checks on the figures: does the client's count of answered requests agree
// with the execution records, and does a mode meet its target.
import type { RecordCounts } from './warden.ts';

export type CountCheck = { ok: boolean; message: string };

/**
 * A run answered `answered` requests with a 2xx in its window. Every answer
 * must have a succeeded record created in the window; at most `unanswered`
 * more records may exist (requests under way when a closed-loop run stopped,
 * or that failed on the client's side after Warden had taken them); none may
 * have failed.
 */
export function checkCounts(o: {
  answered: number;
  records: RecordCounts;
  unanswered: number;
}): CountCheck {
  const succeeded = o.records.created - o.records.notSucceeded;
  const problems: string[] = [];
  if (succeeded < o.answered)
    problems.push(`${o.answered - succeeded} answers have no succeeded execution record`);
  if (o.records.created - o.answered > o.unanswered)
    problems.push(
      `${o.records.created - o.answered} more records than answers (at most ${o.unanswered} requests went unanswered)`,
    );
  if (o.records.notSucceeded > 0)
    problems.push(`${o.records.notSucceeded} records did not succeed`);
  const counts = `client ${o.answered} answered, records ${o.records.created} created / ${o.records.finished} finished in the window`;
  return problems.length
    ? { ok: false, message: `MISMATCH: ${problems.join('; ')} (${counts})` }
    : { ok: true, message: `matches (${counts})` };
}

export type Target = { saturationMin?: number; p99At200Max?: number };

/** What the issue asks of each mode; modes without an entry have no target. */
export const targets: Record<string, Target> = {
  'embedded-pglite': { saturationMin: 5000, p99At200Max: 10 },
  'queue-1': { saturationMin: 3000, p99At200Max: 20 },
  'queue-1-on-worker': { saturationMin: 3000, p99At200Max: 20 },
};

export function judge(
  target: Target,
  got: { saturation: number; p99At200: number },
): { what: string; met: boolean }[] {
  const out: { what: string; met: boolean }[] = [];
  if (target.saturationMin !== undefined)
    out.push({
      what: `saturation >= ${target.saturationMin} exec/s: ${Math.round(got.saturation)}`,
      met: got.saturation >= target.saturationMin,
    });
  if (target.p99At200Max !== undefined)
    out.push({
      what: `p99 at 200/s (the step included) < ${target.p99At200Max} ms: ${got.p99At200.toFixed(1)}`,
      met: got.p99At200 < target.p99At200Max,
    });
  return out;
}
