import { describe, expect, it } from 'vitest';

import type { EvidenceInput } from './evidence-check.ts';
import { checkEvidence, evidenceDifference } from './evidence-check.ts';
import { mineTemplates } from './log-templates.ts';

const dead = mineTemplates([
  'connect() failed (111: Connection refused) while connecting to upstream',
]);
const exhausted = mineTemplates(['512#512: 1024 worker_connections are not enough']);
const restartApp = { action: 'unit.restart', parameters: { unit: 'app.service' } };
const restartNginx = { action: 'unit.restart', parameters: { unit: 'nginx.service' } };
const probe = {
  action: 'unit.status',
  parameters: { unit: 'app.service' },
  expect: 'inactive (dead)',
};

const base = (over: Partial<EvidenceInput> = {}): EvidenceInput => ({
  candidate: { id: '1', evidence: dead, probes: [], fix: restartApp },
  text: 'Dec  1 10:00:00 web nginx[3]: [error] 3#3: *9 connect() failed (111: Connection refused) while connecting to upstream',
  probes: [],
  rivals: [{ id: '2', evidence: exhausted, fix: restartNginx, rootCause: 'out of connections' }],
  ...over,
});

describe('checkEvidence', () => {
  it('confirms a fix whose templates are all seen', () => {
    expect(checkEvidence(base()).status).toBe('confirmed');
  });

  it('is unconfirmed when none of its templates is seen', () => {
    expect(checkEvidence(base({ text: 'something else entirely happened' })).status).toBe(
      'unconfirmed',
    );
  });

  it('is partial when a probe could not run', () => {
    const v = checkEvidence(
      base({ candidate: { id: '1', evidence: dead, probes: [probe], fix: restartApp } }),
    );
    expect(v.status).toBe('partial');
    expect(v.missing[0]).toMatch(/could not run/);
  });

  it('is contradicted when a probe answers otherwise', () => {
    const v = checkEvidence(
      base({
        candidate: { id: '1', evidence: dead, probes: [probe], fix: restartApp },
        probes: [{ probe, ran: true, output: 'Active: active (running) since Mon' }],
      }),
    );
    expect(v.status).toBe('contradicted');
    expect(evidenceDifference(v)).toMatch(/does not show "inactive \(dead\)"/);
  });

  it('confirms with a probe that answers as recorded', () => {
    const v = checkEvidence(
      base({
        candidate: { id: '1', evidence: dead, probes: [probe], fix: restartApp },
        probes: [{ probe, ran: true, output: 'Active: inactive (dead) since Mon 10:00' }],
      }),
    );
    expect(v.status).toBe('confirmed');
  });

  it("is contradicted when another remembered cause's evidence is present", () => {
    const v = checkEvidence(
      base({
        text: `${base().text as string}\n2026/12/01 [alert] 9#9: 4096 worker_connections are not enough`,
      }),
    );
    expect(v.status).toBe('contradicted');
    expect(v.contradictions[0]).toMatch(/remembered incident 2 \(out of connections/);
  });

  it("ignores a rival's template that the candidate's own incident showed too", () => {
    const v = checkEvidence(
      base({
        candidate: {
          id: '1',
          evidence: dead,
          probes: [],
          fix: restartApp,
          logExcerpt: '[alert] 1#1: 512 worker_connections are not enough',
        },
        text: `${base().text as string}\n4096 worker_connections are not enough`,
      }),
    );
    expect(v.status).toBe('confirmed');
  });

  it('ignores a rival with the same fix', () => {
    const v = checkEvidence(
      base({
        text: `${base().text as string}\n4096 worker_connections are not enough`,
        rivals: [{ id: '2', evidence: exhausted, fix: restartApp, rootCause: 'x' }],
      }),
    );
    expect(v.status).toBe('confirmed');
  });

  it('says a fix without recorded evidence is unrecorded', () => {
    expect(
      checkEvidence(base({ candidate: { id: '1', evidence: [], probes: [], fix: restartApp } }))
        .status,
    ).toBe('unrecorded');
  });
});
