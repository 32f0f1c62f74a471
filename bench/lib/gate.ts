// Whether the machine is quiet enough for timing figures. Before a run: the
// 1-minute load average against a limit (refuse, unless the caller accepts a
// busy machine). During a phase: the CPU that processes outside the bench
// used (the machine's busy time minus every process the bench knows), which
// the bench's own load cannot raise the way it raises the load average.

export type GateDecision = { refuse: boolean; busy: boolean; message: string };

export function loadGate(o: { load1: number; maxLoad: number; allowBusy: boolean }): GateDecision {
  const busy = o.load1 > o.maxLoad;
  if (!busy)
    return { refuse: false, busy, message: `load average ${o.load1.toFixed(2)} <= ${o.maxLoad}` };
  if (o.allowBusy)
    return {
      refuse: false,
      busy,
      message: `load average ${o.load1.toFixed(2)} > ${o.maxLoad}: busy machine, every figure is marked`,
    };
  return {
    refuse: true,
    busy,
    message:
      `load average ${o.load1.toFixed(2)} > ${o.maxLoad} (BENCH_MAX_LOAD): the machine is busy and ` +
      'timing figures would not be true. Run it on a quiet machine, or set BENCH_ALLOW_BUSY=1 to ' +
      'get figures marked busy.',
  };
}

/** Cores that other processes kept busy: the machine's busy time minus the bench's processes'. */
export function otherCores(o: {
  machineBusyTicks: number;
  benchTicks: number;
  elapsedMs: number;
  ticksPerSec: number;
}): number {
  if (o.elapsedMs <= 0) return 0;
  const other = Math.max(0, o.machineBusyTicks - o.benchTicks) / o.ticksPerSec;
  return other / (o.elapsedMs / 1000);
}

/** The note printed beside a figure taken while the machine was busy, or '' when it was quiet. */
export function busyNote(o: {
  load1Before: number;
  maxLoad: number;
  other: number;
  maxOther: number;
}): string {
  const reasons: string[] = [];
  if (o.load1Before > o.maxLoad) reasons.push(`load ${o.load1Before.toFixed(2)}`);
  if (o.other > o.maxOther) reasons.push(`others ${o.other.toFixed(2)} cores`);
  return reasons.length ? `(busy: ${reasons.join(', ')})` : '';
}

/** The default limit: three quarters of the cores (1.5 on two). */
export const defaultMaxLoad = (cores: number) => Math.round(cores * 0.75 * 100) / 100;
