// The bypass corpus: every attempt is refused by the rule the corpus names,
// is written to the audit log as refused, and starts no process at all. The
// same executor does start a process for an allowed command, so a spawner
// that never counted would fail here.
import { existsSync, readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import type { TestExec } from './helpers/exec.ts';
import { makeTestExec } from './helpers/exec.ts';

type Case = {
  input?: string;
  generate?: { prefix: string; repeat: string; times: number };
  rule: string;
};
const families = parse(
  readFileSync(new URL('./fixtures/command-bypass-corpus.yaml', import.meta.url), 'utf8'),
) as { family: string; cases: Case[] }[];
const cases = families.flatMap((f) =>
  f.cases.map((c) => ({
    family: f.family,
    input: c.generate ? c.generate.prefix + c.generate.repeat.repeat(c.generate.times) : c.input!,
    rule: c.rule,
  })),
);

describe('command bypass corpus', () => {
  let exec: TestExec;
  beforeAll(async () => {
    exec = await makeTestExec();
  });
  afterAll(() => exec?.dispose());

  it('has at least 150 attempts, covering every family of the issue', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    const names = families.map((f) => f.family).join('\n');
    for (const family of [
      'command substitution',
      'newline',
      'globbed',
      'quoted',
      'absolute',
      'process substitution',
      'prefix-regex',
      'find -exec',
      'xargs',
      'env',
      'awk',
      'tar --to-command and git -c',
      'blocklist',
      'NUL',
      'Unicode look-alikes',
      'long inputs',
    ])
      expect(names).toContain(family);
  });

  it('refuses every attempt naming its rule, audits it, and starts no process', async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const out = await exec.executor.executeCommand(c.input, { kind: 'mcp', id: 'corpus' });
      if (out.status !== 'refused' || out.rule !== c.rule)
        wrong.push(
          `${c.family}: ${JSON.stringify(c.input.slice(0, 80))} -> ${JSON.stringify(out).slice(0, 200)}`,
        );
    }
    expect(wrong).toEqual([]);
    expect(exec.spawner.calls).toEqual([]);
    const records = [];
    for await (const r of exec.audit.records()) records.push(r);
    expect(records).toHaveLength(cases.length);
    expect(records.every((r) => r.decision === 'refused')).toBe(true);
    expect(records.map((r) => r.rule)).toEqual(cases.map((c) => c.rule));
    expect((await exec.audit.verify()).ok).toBe(true);
  });

  it('does start a process for an allowed command through the same executor', async () => {
    const before = exec.spawner.calls.length;
    const out = await exec.executor.executeCommand('uname -s', { kind: 'mcp', id: 'corpus' });
    expect(out).toMatchObject({ status: 'ran', exitCode: 0, rule: 'allow.uname' });
    expect(out.status === 'ran' && out.stdout.trim()).toBe('Linux');
    expect(exec.spawner.calls.length).toBe(before + 1);
  });

  it('leaves no marker file behind for attempts that would create one', async () => {
    const marker = `${exec.dir}/pwned`;
    for (const attempt of [
      `ls; touch ${marker}`,
      `ls $(touch ${marker})`,
      `ls\ntouch ${marker}`,
      `find ${exec.dir} -exec touch ${marker}`,
      `env touch ${marker}`,
      `awk BEGIN{system("touch ${marker}")}`,
    ])
      expect((await exec.executor.executeCommand(attempt, { kind: 'mcp' })).status).toBe('refused');
    expect(existsSync(marker)).toBe(false);
  });
});
