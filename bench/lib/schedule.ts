// The open-loop plan: back-to-back phases at fixed rates (10/s, then a step
// to 200/s, then 1,000/s). Request i is due at a fixed offset from the start
// whatever happened to the requests before it, and its latency counts from
// that due time, so a stall shows up as latency instead of slowing the
// sender down (no coordinated omission). Requests are put in windows by when
// they were due: the whole phase, its first seconds after the step, the rest.
import type { Summary } from './stats.ts';
import { summarize } from './stats.ts';

export type Phase = { name: string; ratePerSec: number; seconds: number };

export type Schedule = {
  /** Due time of each request, ms after the start. */
  due: Float64Array;
  /** Index into the phases of each request. */
  phase: Uint8Array;
  /** Start of each phase, ms after the start. */
  phaseStart: number[];
  /** Whole plan, ms. */
  totalMs: number;
};

export function buildSchedule(phases: readonly Phase[]): Schedule {
  for (const p of phases)
    if (!(p.ratePerSec > 0) || !(p.seconds > 0))
      throw new Error(`phase ${p.name}: rate and seconds must be positive`);
  const counts = phases.map((p) => Math.round(p.ratePerSec * p.seconds));
  const total = counts.reduce((a, b) => a + b, 0);
  const due = new Float64Array(total);
  const phase = new Uint8Array(total);
  const phaseStart: number[] = [];
  let offset = 0;
  let i = 0;
  phases.forEach((p, k) => {
    phaseStart.push(offset);
    const interval = 1000 / p.ratePerSec;
    for (let j = 0; j < counts[k]!; j++, i++) {
      due[i] = offset + j * interval;
      phase[i] = k;
    }
    offset += p.seconds * 1000;
  });
  return { due, phase, phaseStart, totalMs: offset };
}

/** What happened to request i: latency from its due time (NaN when it failed). */
export type Outcome = { latency: number; ok: boolean };

export type SecondBucket = {
  second: number;
  count: number;
  errors: number;
  p99: number;
  max: number;
};

export type PhaseReport = {
  name: string;
  ratePerSec: number;
  seconds: number;
  sent: number;
  whole: Summary;
  /** The first `stepSeconds` of the phase: right after the step from the previous rate. */
  afterStep: Summary;
  /** The phase without its first `stepSeconds`. */
  rest: Summary;
  stepSeconds: number;
  perSecond: SecondBucket[];
};

export function summarizePhases(
  phases: readonly Phase[],
  schedule: Schedule,
  outcomes: readonly Outcome[],
  stepSeconds = 5,
): PhaseReport[] {
  return phases.map((p, k) => {
    const start = schedule.phaseStart[k]!;
    const lat = { whole: [] as number[], after: [] as number[], rest: [] as number[] };
    const err = { whole: 0, after: 0, rest: 0 };
    const seconds = Math.ceil(p.seconds);
    const perSec = Array.from({ length: seconds }, () => ({ lat: [] as number[], errors: 0 }));
    let sent = 0;
    for (let i = 0; i < outcomes.length; i++) {
      if (schedule.phase[i] !== k) continue;
      sent++;
      const o = outcomes[i]!;
      const t = schedule.due[i]! - start;
      const early = t < stepSeconds * 1000;
      const bucket = perSec[Math.min(seconds - 1, Math.floor(t / 1000))]!;
      if (o.ok) {
        lat.whole.push(o.latency);
        (early ? lat.after : lat.rest).push(o.latency);
        bucket.lat.push(o.latency);
      } else {
        err.whole++;
        if (early) err.after++;
        else err.rest++;
        bucket.errors++;
      }
    }
    return {
      name: p.name,
      ratePerSec: p.ratePerSec,
      seconds: p.seconds,
      sent,
      whole: summarize(lat.whole, err.whole),
      afterStep: summarize(lat.after, err.after),
      rest: summarize(lat.rest, err.rest),
      stepSeconds,
      perSecond: perSec.map((b, second) => {
        const s = summarize(b.lat, b.errors);
        return { second, count: s.count, errors: b.errors, p99: s.p99, max: s.max };
      }),
    };
  });
}
