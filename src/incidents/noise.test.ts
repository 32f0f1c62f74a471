import { describe, expect, it } from 'vitest';

import type { Facts, NoiseSettings } from './noise.ts';
import { countTransitions, decide } from './noise.ts';

const settings: NoiseSettings = {
  groupWindowMs: 60_000,
  openAfter: 1,
  flappingTransitions: 4,
  flappingWindowMs: 3_600_000,
};
const quiet: Facts = {
  active: undefined,
  lastResolved: undefined,
  maintenance: undefined,
  recentStatuses: [],
  firingSinceReset: 0,
};
const window = {
  id: 7,
  service: 'web',
  matchers: {},
  reason: 'upgrade',
  startsAt: new Date(0),
  endsAt: new Date(1),
  createdBy: 'test',
  createdAt: new Date(0),
};

describe('decide', () => {
  it('opens on the first firing alert by default', () => {
    expect(decide('firing', quiet, settings)).toEqual({ outcome: 'opened', occurrences: 1 });
  });

  it('waits for openAfter firing alerts', () => {
    const s = { ...settings, openAfter: 3 };
    expect(decide('firing', { ...quiet, firingSinceReset: 1 }, s)).toEqual({
      outcome: 'pending',
      occurrences: 2,
      needed: 3,
    });
    expect(decide('firing', { ...quiet, firingSinceReset: 2 }, s).outcome).toBe('opened');
  });

  it('deduplicates into the open incident', () => {
    expect(decide('firing', { ...quiet, active: { id: 5, flapping: false } }, settings)).toEqual({
      outcome: 'deduplicated',
      incidentId: 5,
    });
  });

  it('suppresses firing alerts in maintenance but never resolved ones', () => {
    const facts = { ...quiet, maintenance: window, active: { id: 5, flapping: false } };
    expect(decide('firing', facts, settings).outcome).toBe('suppressed');
    expect(decide('resolved', facts, settings)).toEqual({ outcome: 'resolved', incidentId: 5 });
  });

  it('ignores a resolved alert when nothing is open', () => {
    expect(decide('resolved', quiet, settings).outcome).toBe('ignored');
  });

  it('reopens the last incident as flapping instead of opening a new one', () => {
    const facts: Facts = {
      ...quiet,
      lastResolved: { id: 9, resolvedAt: new Date(0) },
      recentStatuses: ['firing', 'resolved', 'firing', 'resolved'],
    };
    expect(decide('firing', facts, settings)).toEqual({
      outcome: 'flapping',
      action: 'reopen',
      incidentId: 9,
      transitions: 4,
    });
    // One change fewer is not flapping yet.
    expect(
      decide('firing', { ...facts, recentStatuses: ['resolved', 'firing', 'resolved'] }, settings)
        .outcome,
    ).toBe('opened');
  });

  it('marks an open incident flapping once', () => {
    const recentStatuses = ['firing', 'resolved', 'firing', 'resolved'] as const;
    const facts = { ...quiet, recentStatuses: [...recentStatuses] };
    expect(decide('firing', { ...facts, active: { id: 3, flapping: false } }, settings)).toEqual({
      outcome: 'flapping',
      action: 'mark',
      incidentId: 3,
      transitions: 4,
    });
    expect(
      decide('firing', { ...facts, active: { id: 3, flapping: true } }, settings).outcome,
    ).toBe('deduplicated');
  });
});

describe('countTransitions', () => {
  it('counts changes, not repeats', () => {
    expect(countTransitions(['firing', 'firing', 'resolved', 'resolved', 'firing'])).toBe(2);
    expect(countTransitions([])).toBe(0);
  });
});
