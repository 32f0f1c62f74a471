// A monitor's state machine: `retries` failures in a row are tolerated; the
// next one makes it down (a firing alert). The first success after down makes
// it up (a resolved alert). Nothing else emits.

export type MonitorState = 'pending' | 'up' | 'down';

export type Transition = {
  state: MonitorState;
  failures: number;
  emit: 'firing' | 'resolved' | null;
};

export function nextState(
  current: { state: MonitorState; failures: number },
  ok: boolean,
  retries: number,
): Transition {
  if (ok) {
    return { state: 'up', failures: 0, emit: current.state === 'down' ? 'resolved' : null };
  }
  const failures = current.failures + 1;
  if (current.state === 'down') return { state: 'down', failures, emit: null };
  if (failures > retries) return { state: 'down', failures, emit: 'firing' };
  return { state: current.state, failures, emit: null };
}
