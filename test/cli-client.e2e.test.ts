// The CLI beside a running embedded Warden: the embedded database is locked
// by `warden start`, so commands go through its API with the owner-only
// control token; once it stops they open the database again.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { runWarden, startWarden } from './helpers/cli.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

describe('the CLI beside a running Warden', () => {
  let dir: string;
  let warden: RunningWarden;
  let env: Record<string, string>;
  const control = () => join(dir, 'data', 'control.json');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-cli-client-'));
    env = {
      WARDEN_DATA_DIR: join(dir, 'data'),
      OLLAMA_URL: 'http://127.0.0.1:9',
      LLM_RETRIES: '0',
    };
    writeFileSync(
      join(dir, 'wf.json'),
      JSON.stringify({ ...webhookSetRespond('hello'), name: 'hello' }),
    );
    // A cold start creates the embedded database: allow for a busy machine.
    warden = await startWarden({ cwd: dir, env, waitMs: 90_000 });
  }, 120_000);
  afterAll(async () => {
    await warden?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds it through a control file only the owner can read', () => {
    const st = statSync(control());
    expect(st.mode & 0o777).toBe(0o600);
    const c = JSON.parse(readFileSync(control(), 'utf8')) as { url: string; pid: number };
    expect(c.url).toBe(warden.url);
    expect(c.pid).toBe(warden.child.pid);
  });

  it('imports, lists and exports workflows through the API while the database is locked', async () => {
    const imported = await runWarden(['workflows', 'import', 'wf.json', '--json'], {
      cwd: dir,
      env,
    });
    expect(imported.code, imported.stderr).toBe(0);
    const [w] = JSON.parse(imported.stdout) as { id: number; name: string }[];
    const listed = await runWarden(['workflows', 'list', '--json'], { cwd: dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((x) => x.name)).toContain('hello');
    const exported = await runWarden(['workflows', 'export', String(w!.id)], { cwd: dir, env });
    expect(JSON.parse(exported.stdout)).toMatchObject({ name: 'hello' });
    // The server saw it: the API lists the same workflow.
    const res = await fetch(`${warden.url}/api/v1/workflows`, {
      headers: {
        authorization: `Bearer ${(JSON.parse(readFileSync(control(), 'utf8')) as { token: string }).token}`,
      },
    });
    const { workflows } = (await res.json()) as { workflows: { name: string }[] };
    expect(workflows.map((x) => x.name)).toContain('hello');
  });

  it('lists incidents, verifies the audit chain and names a missing incident', async () => {
    const incidents = await runWarden(['incidents', 'list'], { cwd: dir, env });
    expect(incidents.code, incidents.stderr).toBe(0);
    expect(incidents.stdout).toBe('(none)\n');
    const audit = await runWarden(['audit', 'verify'], { cwd: dir, env });
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toContain('database: ok');
    const missing = await runWarden(['incidents', 'show', '999'], { cwd: dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('999');
  });

  it('runs doctor through the running Warden and still checks models and notifications', async () => {
    const r = await runWarden(['doctor', '--json'], { cwd: dir, env });
    const findings = JSON.parse(r.stdout) as { check: string; status: string; detail: string }[];
    const byCheck = Object.fromEntries(findings.map((f) => [f.check, f]));
    expect(byCheck.warden).toMatchObject({ status: 'ok' });
    expect(byCheck.warden!.detail).toContain(`pid ${warden.child.pid}`);
    expect(byCheck.database).toMatchObject({ status: 'ok' });
    expect(byCheck['model server']).toMatchObject({ status: 'fail' });
    expect(byCheck.notifications).toMatchObject({ status: 'warn' });
    expect(r.code).toBe(1);
  });

  it('refuses a wrong token', async () => {
    const res = await fetch(`${warden.url}/api/v1/workflows`, {
      headers: { authorization: `Bearer ${'x'.repeat(43)}` },
    });
    expect(res.status).toBe(401);
  });

  it('opens the database itself once Warden has stopped, and the control file is gone', async () => {
    expect(await warden.stop()).toBe(0);
    expect(existsSync(control())).toBe(false);
    const listed = await runWarden(['workflows', 'list', '--json'], { cwd: dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((x) => x.name)).toContain('hello');
  });
});
