// Catalogue actions: typed parameters refuse what does not fit (naming the
// rule), argv templates keep their shape, and actions run through the runner.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { actionSchema, loadActionsFile } from '../src/exec/action-catalogue.ts';
import type { TestExec } from './helpers/exec.ts';
import { makeTestExec } from './helpers/exec.ts';

describe('action catalogue', () => {
  let exec: TestExec;
  let logs: string;
  const caller = { kind: 'cli' as const };
  beforeAll(async () => {
    exec = await makeTestExec({ WARDEN_EXEC_ALLOWED_UNITS: 'nginx.service,ssh.service' });
    // The log directory is set after the fact: it lives in the test's temp dir.
    logs = join(exec.dir, 'logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'app.log'), 'one\ntwo\nthree\n');
    symlinkSync('/etc/passwd', join(logs, 'escape.log'));
    (exec.catalogue as unknown as { ctx: { allowedLogDirs: string[] } }).ctx.allowedLogDirs = [
      logs,
    ];
  });
  afterAll(() => exec?.dispose());

  it('lists the default catalogue from the database', async () => {
    const names = (await exec.catalogue.list()).map((a) => a.name);
    for (const n of [
      'system.resources',
      'disk.usage',
      'unit.restart',
      'journal.tail',
      'log.tail',
      'docker.logs',
    ])
      expect(names).toContain(n);
  });

  it('fills a template without changing its shape', async () => {
    const r = await exec.catalogue.render('unit.restart', { unit: 'nginx.service' });
    expect(r.argv).toEqual(['systemctl', 'restart', 'nginx.service']);
    expect(r.verify?.argv).toEqual(['systemctl', 'is-active', '--quiet', 'nginx.service']);
  });

  it.each([
    ['unit.restart', { unit: 'sshd; reboot' }, 'param.unit'],
    ['unit.restart', { unit: 'postgresql.service' }, 'param.unit'],
    ['unit.restart', {}, 'param.missing'],
    ['unit.restart', { unit: 'nginx.service', extra: 'x' }, 'param.unknown'],
    ['journal.tail', { unit: 'nginx.service', lines: '10; id' }, 'param.range'],
    ['journal.tail', { unit: 'nginx.service', lines: 100000 }, 'param.range'],
    ['log.tail', { path: '/etc/shadow' }, 'param.path_root'],
    ['log.tail', { path: 'PLACEHOLDER/escape.log' }, 'param.path_root'],
    ['log.tail', { path: 'PLACEHOLDER/../../etc/passwd' }, 'param.path'],
    ['log.tail', { path: 'PLACEHOLDER/missing.log' }, 'param.path'],
    ['postgres.ready', { host: 'db.example.com' }, 'param.enum'],
    ['postgres.ready', { port: '5432 -h db' }, 'param.range'],
    ['docker.logs', { container: '../../containers' }, 'param.container'],
    ['unit.restart', { unit: 'nginx.service\n' }, 'param.characters'],
    ['no.such.action', {}, 'action.unknown'],
    ['unit.restart', { unit: '../../nginx.service' }, 'param.unit'],
    ['unit.restart', { unit: '-Hroot@evil' }, 'param.unit'],
    ['unit.restart', { unit: 'nginx.service\0' }, 'param.characters'],
    ['unit.restart', { unit: 'x'.repeat(257) }, 'param.length'],
    ['unit.restart', { unit: 'nginx.servic\u0435' }, 'param.characters'],
    ['log.tail', { path: 'PLACEHOLDER/app.log\0' }, 'param.characters'],
    ['log.tail', { path: 'app.log' }, 'param.path'],
    ['log.tail', { path: '--help' }, 'param.path'],
    ['log.tail', { path: 'PLACEHOLDER' }, 'param.path'],
    ['log.tail', { path: 'PLACEHOLDER/app.log', lines: '-5' }, 'param.range'],
    ['log.tail', { path: 'PLACEHOLDER/app.log', lines: '1e3' }, 'param.range'],
    ['journal.tail', { unit: 'nginx.service', lines: '--follow' }, 'param.range'],
    ['docker.logs', { container: '-f' }, 'param.container'],
    ['docker.logs', { container: '..' }, 'param.container'],
    ['postgres.ready', { host: '-h' }, 'param.enum'],
  ])('refuses %s %j with %s, starting nothing', async (name, params, rule) => {
    const p = Object.fromEntries(
      Object.entries(params).map(([k, v]) => [
        k,
        typeof v === 'string' ? v.replace('PLACEHOLDER', logs) : v,
      ]),
    );
    const before = exec.spawner.calls.length;
    const out = await exec.executor.runAction(name, p, caller);
    expect(out).toMatchObject({ status: 'refused', rule });
    expect(exec.spawner.calls.length).toBe(before);
  });

  it('refuses a configured unit that is no unit name in shape (it would be an option)', async () => {
    const ctx = (exec.catalogue as unknown as { ctx: { allowedUnits: string[] } }).ctx;
    const saved = ctx.allowedUnits;
    ctx.allowedUnits = [...saved, '-Hroot@evil', '-.mount'];
    try {
      const before = exec.spawner.calls.length;
      for (const unit of ['-Hroot@evil', '-.mount'])
        expect(await exec.executor.runAction('unit.restart', { unit }, caller)).toMatchObject({
          status: 'refused',
          rule: 'param.unit',
        });
      expect(exec.spawner.calls.length).toBe(before);
    } finally {
      ctx.allowedUnits = saved;
    }
  });

  it('refuses parameters that are not an object, and never reads inherited ones', async () => {
    for (const params of [null, ['nginx.service'], 'unit=nginx.service'])
      expect(
        await exec.executor.runAction(
          'unit.restart',
          params as unknown as Record<string, unknown>,
          caller,
        ),
      ).toMatchObject({ status: 'refused', rule: 'param.type' });
    // `{constructor}` is no parameter just because every object inherits one.
    expect(
      actionSchema.safeParse({
        name: 'x.y',
        description: 'x',
        risk: 'read',
        argv: ['uname', '{constructor}'],
      }).success,
    ).toBe(false);
    await exec.catalogue.sync('file', [
      {
        name: 'app.proto',
        description: 'A parameter named like an inherited property.',
        risk: 'read',
        argv: ['uname', '-{constructor}'],
        params: { constructor: { type: 'enum' as const, values: ['s', 'n'], default: 's' } },
      },
    ]);
    expect(await exec.catalogue.render('app.proto', {})).toMatchObject({ argv: ['uname', '-s'] });
  });

  it('refuses regex parameters that start with a dash or do not match in full', async () => {
    await exec.catalogue.sync('file', [
      {
        name: 'app.ping',
        description: 'Check a local database by name.',
        risk: 'read',
        argv: ['pg_isready', '-h', '127.0.0.1', '-d', '{db}'],
        params: { db: { type: 'regex', pattern: '[a-z_-]+', maxLength: 63 } },
      },
    ]);
    const before = exec.spawner.calls.length;
    for (const [db, rule] of [
      ['--help', 'param.leading_dash'],
      ['app; id', 'param.pattern'],
      ['app\nid', 'param.characters'],
      ['a'.repeat(64), 'param.pattern'],
    ])
      expect(await exec.executor.runAction('app.ping', { db }, caller)).toMatchObject({
        status: 'refused',
        rule,
      });
    expect(exec.spawner.calls.length).toBe(before);
  });

  it('runs a read action through the runner and audits it', async () => {
    const out = await exec.executor.runAction(
      'log.tail',
      { path: join(logs, 'app.log'), lines: 2 },
      caller,
    );
    expect(out).toMatchObject({
      status: 'ran',
      exitCode: 0,
      stdout: 'two\nthree\n',
      rule: 'action.log.tail',
    });
    const last = [];
    for await (const r of exec.audit.records()) last.push(r);
    expect(last.at(-1)).toMatchObject({
      operation: 'run_action',
      decision: 'allowed',
      exitCode: 0,
    });
  });

  it('reaches the host network when the action declares it (postgres.ready)', async () => {
    const out = await exec.executor.runAction('postgres.ready', {}, caller);
    expect(out).toMatchObject({
      status: 'ran',
      exitCode: 0,
      argv: ['pg_isready', '-h', '127.0.0.1', '-p', '5432', '-t', '5'],
    });
  });

  it('answers system.resources without starting a process', async () => {
    const before = exec.spawner.calls.length;
    const out = await exec.executor.runAction('system.resources', {}, caller);
    expect(out.status).toBe('done');
    expect(out.status === 'done' && (out.result as { cpus: number }).cpus).toBeGreaterThan(0);
    expect(exec.spawner.calls.length).toBe(before);
  });

  it('rolls back a change whose verify probe fails, once', async () => {
    await exec.catalogue.sync('file', [
      {
        name: 'app.flip',
        description: 'A change that does not verify.',
        risk: 'change',
        argv: ['uname', '-s'],
        params: { unit: { type: 'unit' } },
        verify: { argv: ['false', '{unit}'] },
        rollback: { action: 'app.unflip', params: { unit: '{unit}' } },
      },
      {
        name: 'app.unflip',
        description: 'Its rollback, which does not verify either.',
        risk: 'change',
        argv: ['uname', '-n'],
        params: { unit: { type: 'unit' } },
        verify: { argv: ['false'] },
        rollback: { action: 'app.flip', params: { unit: '{unit}' } },
      },
    ]);
    const out = await exec.executor.runAction('app.flip', { unit: 'ssh.service' }, caller);
    expect(out).toMatchObject({
      status: 'ran',
      verify: { ok: false },
      rollback: {
        status: 'ran',
        rule: 'action.app.unflip',
        argv: ['uname', '-n'],
        verify: { ok: false },
      },
    });
    expect(
      out.status === 'ran' && out.rollback?.status === 'ran' && out.rollback.rollback,
    ).toBeUndefined();
    const rules = [];
    for await (const r of exec.audit.records()) rules.push(r.rule);
    expect(rules.slice(-2)).toEqual(['action.app.flip', 'action.app.unflip']);
  });

  it('refuses a dangerous action without a human approval', async () => {
    await exec.catalogue.sync('file', [
      {
        name: 'host.reboot',
        description: 'Reboot.',
        risk: 'dangerous',
        argv: ['systemctl', 'reboot'],
        params: {},
      },
    ]);
    const before = exec.spawner.calls.length;
    expect(await exec.executor.runAction('host.reboot', {}, caller)).toMatchObject({
      status: 'refused',
      rule: 'gate.approval_required',
    });
    expect(exec.spawner.calls.length).toBe(before);
  });

  it('loads actions.yaml, refusing interpreters and files others could rewrite', () => {
    const file = join(exec.dir, 'actions.yaml');
    writeFileSync(
      file,
      'actions:\n  - name: app.health\n    description: Health\n    risk: read\n    argv: [pg_isready, -h, "{host}"]\n    params:\n      host: {type: regex, pattern: "[a-z.]+"}\n',
    );
    chmodSync(file, 0o644);
    expect(loadActionsFile(file).map((a) => a.name)).toEqual(['app.health']);
    chmodSync(file, 0o666);
    expect(() => loadActionsFile(file)).toThrow(/writable by group or others/);
    writeFileSync(
      file,
      'actions:\n  - {name: x, description: x, risk: read, argv: [sh, -c, "{cmd}"], params: {cmd: {type: regex, pattern: ".*"}}}\n',
    );
    chmodSync(file, 0o600);
    expect(() => loadActionsFile(file)).toThrow(/runs other programs/);
    writeFileSync(file, 'actions:\n  - {name: y, description: y, risk: read, argv: ["/bin/df"]}\n');
    expect(() => loadActionsFile(file)).toThrow(/bare program name/);
  });
});
